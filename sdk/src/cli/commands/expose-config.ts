/**
 * `remoted expose --config routes.json`: several routes in one process, each
 * a RemotedServer of its own. SIGHUP re-reads the file: a route whose entry
 * resolves the same keeps running untouched (same WebSocket, same links),
 * a removed one drains, a new one starts, a changed one gives its route back
 * (its open links run on) and starts again; a bad file changes nothing.
 * SIGINT/SIGTERM drain every route as `expose` does; a second one exits.
 */
import type { Socket } from 'node:net';
import type { RemotedServer } from '../../listen/remoted-server';
import type { CliContext } from '../cli-context';
import type { CliLogger } from '../cli-logger';
import { formatError } from '../exit-codes';
import { exposedServer } from '../exposed-server';
import { type RouteDefaults, type RouteSpec, readRoutesConfig } from '../routes-config';

export const ROUTES_FILE_HELP = `
With --config, the routes come from a JSON file (schema:
@remoted/sdk/schema/routes.schema.json) instead of <rws-url> and --to; the
other flags are defaults for every route. SIGHUP re-reads it: unchanged
routes keep their WebSocket and links, removed ones drain, new ones start,
changed ones restart.

  {
    "relay": "rws://relay.example:37791",
    "keyFile": "server.key",
    "routes": [
      { "path": "/ssh", "to": "127.0.0.1:22" },
      { "path": "/web", "to": "127.0.0.1:8080", "proxyProtocol": "v2", "spares": 16, "drainTimeout": 60 },
      { "url": "rwss://other.example/api", "key": "APIKEY", "to": "127.0.0.1:9000", "maxRetryDelay": 5000 }
    ]
  }

A route's key: the key in its "url", else its "key"/"keyFile", else the top
level's, else REMOTED_KEY. A key file (relative to the routes file) must be
readable by its owner only. A bad file exits 2 naming file:line:column and
the field; on SIGHUP it is logged and the running routes stay.`;

/** One route of the file, running: its server, and the links it made (which outlive a restart of the route). */
class ExposedRoute {
  readonly server: RemotedServer;
  private readonly links = new Set<Socket>();
  private readonly linksGone: Array<() => void> = [];

  constructor(
    readonly spec: RouteSpec,
    private readonly log: CliLogger,
  ) {
    const { to, spares, proxyProtocol, maxRetryDelayMs } = spec;
    this.server = exposedServer({ to, spares, proxyProtocol, maxRetryDelayMs, logPrefix: `${spec.name}: ` }, log);
    this.server.on('connection', (link: Socket) => {
      this.links.add(link);
      link.once('close', () => {
        this.links.delete(link);
        if (this.links.size === 0) for (const resolve of this.linksGone.splice(0)) resolve();
      });
    });
  }

  get openLinks(): number {
    return this.links.size;
  }

  start(): void {
    this.server.listen(this.spec.url);
  }

  /** Gives the route back at once; links already made run on. Resolves once the relay has it back. */
  release(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** No new links; open ones run until they end or for the route's drain timeout, then are cut. */
  async drain(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.spec.drainTimeoutSeconds * 1000);
    });
    const drained = Promise.all([this.server.drain(), this.untilLinksGone()]).then(() => false);
    const cut = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (cut) {
      this.log.warn(`${this.spec.name}: drain timeout: ${this.links.size} link(s) cut`);
      this.cut();
    }
  }

  cut(): void {
    for (const link of this.links) link.destroy();
    this.server.close();
  }

  private untilLinksGone(): Promise<void> {
    if (this.links.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.linksGone.push(resolve));
  }
}

/** Every route of the file, by name; and routes on their way out (restarted or removed), until their links end. */
class RouteSet {
  private readonly running = new Map<string, ExposedRoute>();
  private readonly leaving = new Set<ExposedRoute>();
  private stopping = false;
  /** Settles the command: resolve once no route is left, reject with the error of the last one that failed. */
  private readonly settled: Promise<void>;
  private settle!: (err?: Error) => void;

  constructor(private readonly log: CliLogger) {
    this.settled = new Promise<void>((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
    });
  }

  get done(): Promise<void> {
    return this.settled;
  }

  /** Starts, keeps, restarts and drains routes so that what runs is `routes`. */
  async apply(routes: readonly RouteSpec[]): Promise<{ added: number; removed: number; changed: number; unchanged: number }> {
    const counts = { added: 0, removed: 0, changed: 0, unchanged: 0 };
    const wanted = new Map(routes.map((spec) => [spec.name, spec]));
    for (const [name, route] of this.running) {
      if (wanted.has(name)) continue;
      counts.removed += 1;
      this.running.delete(name);
      this.log.info(`${name}: removed from the routes file, draining`);
      this.retire(route, route.drain());
    }
    const restarts: Promise<void>[] = [];
    for (const spec of routes) {
      const current = this.running.get(spec.name);
      if (current && sameSpec(current.spec, spec)) {
        counts.unchanged += 1;
        continue;
      }
      if (!current) {
        counts.added += 1;
        this.start(spec);
        continue;
      }
      counts.changed += 1;
      this.running.delete(spec.name);
      this.log.info(`${spec.name}: changed in the routes file, restarting (open links run on)`);
      // The relay must have the path back before the new listener asks for it, or it answers path_in_use.
      const released = current.release();
      this.retire(current, released.then(() => current.drain()));
      restarts.push(released.then(() => this.start(spec)));
    }
    await Promise.all(restarts);
    return counts;
  }

  /** SIGINT/SIGTERM: every route drains (each within its own drain timeout). */
  async drainAll(): Promise<void> {
    this.stopping = true;
    const routes = [...this.running.values(), ...this.leaving];
    await Promise.all(routes.map((route) => route.drain()));
  }

  cutAll(): void {
    this.stopping = true;
    for (const route of [...this.running.values(), ...this.leaving]) route.cut();
  }

  get openLinks(): number {
    let count = 0;
    for (const route of [...this.running.values(), ...this.leaving]) count += route.openLinks;
    return count;
  }

  get routeCount(): number {
    return this.running.size;
  }

  private start(spec: RouteSpec): void {
    if (this.stopping) return;
    const route = new ExposedRoute(spec, this.log);
    this.running.set(spec.name, route);
    route.server.once('error', (err) => {
      this.log.warn(`${spec.name}: stopped: ${formatError(err).replace(/^remoted: /, '')}`);
      this.forget(route, err);
    });
    // Closed without an error: the relay's operator drained it and its links ended.
    route.server.once('close', () => this.forget(route));
    route.start();
  }

  private forget(route: ExposedRoute, err?: Error): void {
    if (this.running.get(route.spec.name) !== route) return;
    this.running.delete(route.spec.name);
    if (this.running.size === 0 && !this.stopping) this.settle(err);
  }

  /** Keeps `route` counted (for the exit's drain) until `leaving` settles: its links ended or were cut. */
  private retire(route: ExposedRoute, leaving: Promise<void>): void {
    this.leaving.add(route);
    void leaving.then(() => this.leaving.delete(route));
  }
}

function sameSpec(a: RouteSpec, b: RouteSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Runs the routes of `file` until SIGINT/SIGTERM (then drains; exit 0) or
 * until no route is left (the last one's error, if any, is the exit's).
 */
export async function exposeFromConfig(file: string, defaults: RouteDefaults, ctx: CliContext): Promise<void> {
  const log = ctx.log;
  const routes = new RouteSet(log);
  let reloads = Promise.resolve();
  let stopping = false;
  const onHangup = (): void => {
    reloads = reloads.then(async () => {
      if (stopping) return;
      let specs: RouteSpec[];
      try {
        const config = readRoutesConfig(file, defaults, process.env);
        for (const warning of config.warnings) log.warn(warning);
        specs = config.routes;
      } catch (err) {
        log.warn(`SIGHUP: ${file} not reloaded, the running routes stay: ${formatError(err).replace(/^remoted: /, '')}`);
        return;
      }
      const c = await routes.apply(specs);
      log.info(`SIGHUP: reloaded ${file}: ${c.added} added, ${c.removed} removed, ${c.changed} changed, ${c.unchanged} unchanged`);
    });
  };
  // Before the file is read: a SIGHUP at start must not end the process (its default).
  process.on('SIGHUP', onHangup);
  try {
    const config = readRoutesConfig(file, defaults, process.env);
    for (const warning of config.warnings) log.warn(warning);
    await routes.apply(config.routes);
    const signalled = ctx.untilSignal().then(async (signal) => {
      stopping = true;
      const open = routes.openLinks;
      log.info(`${signal}: draining ${routes.routeCount} route(s), ${open} link${open === 1 ? '' : 's'} open; exiting once they end (signal again to exit now)`);
      const interrupted = ctx.untilSignal().then((again) => {
        log.warn(`${again} again: ${routes.openLinks} link(s) cut`);
        routes.cutAll();
      });
      await Promise.race([routes.drainAll(), interrupted]);
    });
    await Promise.race([routes.done, signalled]);
  } finally {
    process.off('SIGHUP', onHangup);
  }
}
