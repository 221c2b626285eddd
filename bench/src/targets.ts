/**
 * The things the scenarios run against, side by side: direct, baseline,
 * remoted, and remoted_spares (remoted with a listener that keeps spare
 * dial-backs, measured on link setup only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dial } from '@remoted/sdk';
import { randomToken } from '@remoted/sdk/protocol';
import { webRouteConnect } from './original-protocol';
import { asChild, BENCH_DIST, type Child, freePort, jsonLine, RELAY_MAIN, startNode } from './processes';

export type Route = 'echo' | 'sink';

/** Spares the remoted_spares listener keeps per route (the relay is started to grant them). */
export const BENCH_SPARES = 64;

export interface Target {
  name: string;
  /** `links`: only the link setup scenarios (setup latency, links per second); `setup_throughput`: those and one stream's throughput. */
  scenarios: 'all' | 'links' | 'setup_throughput';
  /** The relay process whose RSS and CPU are measured, if any. */
  relayPid: number | undefined;
  connect(route: Route): Promise<Socket>;
  /**
   * A link whose first bytes go out as early as the target's protocol allows:
   * plain TCP writes them the moment it is connected; remoted sends them with
   * the WebRoute request (`dial(url, { earlyData })`), before its 101.
   */
  connectSending(route: Route, first: Buffer): Promise<Socket>;
}

export interface Testbed {
  targets: Target[];
  stop(): Promise<void>;
}

function tcpConnect(port: number, first?: Buffer): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true, noDelay: true }, () => {
      if (first) socket.write(first);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** `relayNodeArgs` go to the relay's node (e.g. --cpu-prof for `npm run bench -- --profile`). */
export async function startTestbed(relayNodeArgs: readonly string[] = []): Promise<Testbed> {
  const children: Child<unknown>[] = [];
  const servers = await startNode<{ echo: number; sink: number }>(join(BENCH_DIST, 'target-server.js'), [], {}, jsonLine);
  children.push(servers);
  const baseline = await startNode<{ echo: number; sink: number }>(join(BENCH_DIST, 'baseline-relay.js'), [], { BASELINE_TARGETS: `${servers.info.echo},${servers.info.sink}` }, jsonLine);
  children.push(baseline);

  const dataDir = mkdtempSync(join(tmpdir(), 'remoted-bench-'));
  const keys = { server: randomToken(), client: randomToken() };
  const relayPort = await freePort();
  // The relay logs to stderr only, so it is ready once its port answers.
  const relayChild = await startRelayProcess(relayPort, dataDir, keys, relayNodeArgs);
  children.push(relayChild);
  const listener = await startNode(join(BENCH_DIST, 'sdk-listener.js'), [], { RELAY_PORT: String(relayPort), SERVER_KEY: keys.server }, (l) => jsonLine<{ ready: boolean }>(l)?.ready);
  children.push(listener as Child<unknown>);
  const sparesListener = await startNode(
    join(BENCH_DIST, 'sdk-listener.js'),
    [],
    { RELAY_PORT: String(relayPort), SERVER_KEY: keys.server, SPARES: String(BENCH_SPARES), ROUTE_PREFIX: 'spares-' },
    (l) => jsonLine<{ ready: boolean; spares: number }>(l),
  );
  children.push(sparesListener as Child<unknown>);
  if (sparesListener.info.spares !== BENCH_SPARES) throw new Error(`the relay granted ${sparesListener.info.spares} of ${BENCH_SPARES} spares`);
  const legacyListener = await startNode(join(BENCH_DIST, 'original-listener.js'), [], { RELAY_PORT: String(relayPort), SERVER_KEY: keys.server }, (l) => jsonLine<{ ready: boolean }>(l)?.ready);
  children.push(legacyListener as Child<unknown>);
  // The original's dialers write their first bytes once the 101 is in.
  const dialLegacy = async (route: Route, first?: Buffer): Promise<Socket> => {
    const socket = await webRouteConnect(relayPort, `legacy-${route}`, keys.client, randomToken());
    if (first) socket.write(first);
    return socket;
  };
  const dialRemoted = async (path: string, earlyData?: Buffer): Promise<Socket> => {
    const socket = await dial(`rwr://${keys.client}@127.0.0.1:${relayPort}/${path}`, { earlyData });
    socket.setNoDelay(true);
    return socket;
  };

  const targets: Target[] = [
    {
      name: 'direct',
      scenarios: 'all',
      relayPid: undefined,
      connect: (route) => tcpConnect(servers.info[route]),
      connectSending: (route, first) => tcpConnect(servers.info[route], first),
    },
    {
      name: 'baseline',
      scenarios: 'all',
      relayPid: baseline.pid,
      connect: (route) => tcpConnect(baseline.info[route]),
      connectSending: (route, first) => tcpConnect(baseline.info[route], first),
    },
    {
      name: 'remoted',
      scenarios: 'all',
      relayPid: relayChild.pid,
      connect: (route) => dialRemoted(route),
      connectSending: (route, first) => dialRemoted(route, first),
    },
    {
      name: 'remoted_spares',
      scenarios: 'links',
      relayPid: relayChild.pid,
      connect: (route) => dialRemoted(`spares-${route}`),
      connectSending: (route, first) => dialRemoted(`spares-${route}`, first),
    },
    {
      name: 'remoted_legacy',
      scenarios: 'links',
      relayPid: relayChild.pid,
      connect: (route) => dialLegacy(route),
      connectSending: (route, first) => dialLegacy(route, first),
    },
  ];
  return {
    targets,
    async stop() {
      for (const child of children.reverse()) await child.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Starts the relay as an operator would, from its built entry point. */
async function startRelayProcess(port: number, dataDir: string, keys: { server: string; client: string }, nodeArgs: readonly string[]): Promise<Child<undefined>> {
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs, RELAY_MAIN, '--port', String(port), '--data-dir', dataDir, '--server-key', keys.server, '--client-key', keys.client, '--log-level', 'warn',
      // Enough spares for the remoted_spares listener on each of its two routes.
      '--spares-per-listener', String(BENCH_SPARES), '--spares-per-route', String(BENCH_SPARES),
    ],
    { env: { ...process.env, REMOTED_GRPC_PORT: '0', REMOTED_STATUS_PORT: '0' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      (await tcpConnect(port)).destroy();
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the relay did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return asChild(child, undefined);
}
