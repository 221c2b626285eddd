/**
 * The built `remoted expose --config FILE`: several routes from one file in
 * one process, errors naming file:line:column and field (exit 2), and SIGHUP
 * reloads that add, remove and restart routes while unchanged ones keep their
 * WebSocket (same listener id) and open links. Needs `npm run build:sdk`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dial, RemotedError } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { listenersOn } from './listener-helpers';
import { readBytes } from './sdk-helpers';

const CLI = join(__dirname, '..', '..', 'sdk', 'dist', 'cli', 'main.js');

interface Cli {
  child: ChildProcessWithoutNullStreams;
  stderr(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Cli {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: 'pipe', env: { ...process.env, REMOTED_KEY: '', ...env } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    exited,
    waitForLog: (pattern, timeoutMs = 10_000) => waitFor(() => pattern.test(stderr), `${pattern} in stderr: ${stderr}`, timeoutMs),
  };
}

/** A local service that says its name on connect, then echoes. */
async function startNamedEcho(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.write(`${name}:`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('remoted expose --config', () => {
  let relay: StartedRelay;
  let dir: string;
  let alpha: { port: number; close(): Promise<void> };
  let beta: { port: number; close(): Promise<void> };
  const clis: Cli[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    alpha = await startNamedEcho('alpha');
    beta = await startNamedEcho('beta');
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'remoted-routes-e2e-'));
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const cli of clis.splice(0)) {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await alpha.close();
    await beta.close();
    await relay.close();
  });

  function writeRoutes(routes: object[]): string {
    const file = join(dir, 'routes.json');
    writeFileSync(file, JSON.stringify({ relay: `rws://127.0.0.1:${relay.port}`, key: relay.keys.server, routes }, null, 2));
    chmodSync(file, 0o644);
    return file;
  }

  function expose(file: string): Cli {
    const cli = runCli(['expose', '--config', file]);
    clis.push(cli);
    return cli;
  }

  /** Dials `path`, checks which service answered, and keeps the link open. */
  async function link(path: string, service: string): Promise<Socket> {
    const socket = await dial(relay.url('rwr', path), { timeoutMs: 5000 });
    sockets.push(socket);
    expect((await readBytes(socket, service.length + 1)).toString()).toBe(`${service}:`);
    return socket;
  }

  async function roundTrip(socket: Socket, text: string): Promise<void> {
    socket.write(text);
    expect((await readBytes(socket, Buffer.byteLength(text))).toString()).toBe(text);
  }

  const listenerIdOn = (path: string): string | undefined => listenersOn(relay, path).find((l) => l.state !== 'draining')?.listenerId;

  it('exposes two routes from one file, each to its own service, the key read from a key file', async () => {
    writeFileSync(join(dir, 'server.key'), `${relay.keys.server}\n`, { mode: 0o600 });
    const file = join(dir, 'routes.json');
    const routes = [
      { path: '/alpha', to: `127.0.0.1:${alpha.port}` },
      { path: '/beta', to: `127.0.0.1:${beta.port}`, spares: 1 },
    ];
    writeFileSync(file, JSON.stringify({ relay: `rws://127.0.0.1:${relay.port}`, keyFile: 'server.key', routes }));
    chmodSync(file, 0o644);
    const cli = expose(file);
    await cli.waitForLog(/listening on rws:\/\/127\.0\.0\.1:\d+\/alpha, exposing/);
    await cli.waitForLog(/listening on rws:\/\/127\.0\.0\.1:\d+\/beta, exposing 127\.0\.0\.1:\d+, 1 spares/);
    const a = await link('/alpha', 'alpha');
    const b = await link('/beta', 'beta');
    await roundTrip(a, 'to alpha');
    await roundTrip(b, 'to beta');
    // Nothing of the key in the logs, and no warning: the key is in a file only its owner reads.
    expect(cli.stderr()).not.toContain(relay.keys.server);
    expect(cli.stderr()).not.toMatch(/warning/);
  });

  it('a bad file exits 2 naming file, line, column and field', async () => {
    const file = join(dir, 'routes.json');
    writeFileSync(file, `{\n  "relay": "rws://127.0.0.1:${relay.port}",\n  "key": "k",\n  "routes": [\n    { "path": "/a", "to": "127.0.0.1:1", "spares": -1 }\n  ]\n}\n`);
    const cli = expose(file);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toBe(`remoted: invalid_config: ${file}:5:52: routes[0].spares: expected a whole number from 0 to 1024, got -1\n`);

    const mixed = runCli(['expose', 'rws://k@127.0.0.1:1/x', '--config', file]);
    clis.push(mixed);
    expect(await mixed.exited).toBe(2);
    expect(mixed.stderr()).toMatch(/--config names every route/);

    const help = runCli(['expose', '--help']);
    clis.push(help);
    let stdout = '';
    help.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    expect(await help.exited).toBe(0);
    expect(stdout).toMatch(/--config <file>/);
    expect(stdout).toMatch(/"routes": \[/);
  });

  it('SIGHUP: an added route starts, an unchanged one keeps its listener and its open link', async () => {
    const routes = [{ path: '/kept', to: `127.0.0.1:${alpha.port}` }];
    const file = writeRoutes(routes);
    const cli = expose(file);
    await cli.waitForLog(/listening on .*\/kept,/);
    // The key is in the file itself, which others may read.
    expect(cli.stderr()).toMatch(/warning: .*routes\.json holds a key and is open to other users/);
    const keptId = listenerIdOn('/kept');
    expect(keptId).toBeDefined();
    const open = await link('/kept', 'alpha');
    await roundTrip(open, 'before the reload');

    writeRoutes([...routes, { path: '/added', to: `127.0.0.1:${beta.port}` }]);
    cli.child.kill('SIGHUP');
    await cli.waitForLog(/SIGHUP: reloaded .*: 1 added, 0 removed, 0 changed, 1 unchanged/);
    await cli.waitForLog(/listening on .*\/added,/);
    await roundTrip(await link('/added', 'beta'), 'to the new route');

    await roundTrip(open, 'after the reload, same link');
    expect(listenerIdOn('/kept')).toBe(keptId);
    expect(listenersOn(relay, '/kept')).toHaveLength(1);
    expect(cli.child.exitCode).toBeNull();
  });

  it('SIGHUP: a removed route drains away (dials get missing_destination), a changed one restarts, a bad file changes nothing', async () => {
    const file = writeRoutes([
      { path: '/stays', to: `127.0.0.1:${alpha.port}` },
      { path: '/goes', to: `127.0.0.1:${alpha.port}` },
      { path: '/changes', to: `127.0.0.1:${alpha.port}` },
    ]);
    const cli = expose(file);
    await cli.waitForLog(/listening on .*\/changes,/);
    await cli.waitForLog(/listening on .*\/goes,/);
    await cli.waitForLog(/listening on .*\/stays,/);
    const changesId = listenerIdOn('/changes');
    const staysId = listenerIdOn('/stays');
    const onChanged = await link('/changes', 'alpha');

    writeFileSync(file, '{ "routes": [ oops ] }');
    cli.child.kill('SIGHUP');
    await cli.waitForLog(/warning: SIGHUP: .*routes\.json not reloaded, the running routes stay: invalid_config: .*routes\.json:1:15: not valid JSON/);
    await link('/goes', 'alpha');

    writeRoutes([
      { path: '/stays', to: `127.0.0.1:${alpha.port}` },
      { path: '/changes', to: `127.0.0.1:${beta.port}` },
    ]);
    cli.child.kill('SIGHUP');
    await cli.waitForLog(/SIGHUP: reloaded .*: 0 added, 1 removed, 1 changed, 1 unchanged/);
    await waitFor(() => listenersOn(relay, '/goes').every((l) => l.state === 'draining'), 'the removed route drains');
    const refused = await dial(relay.url('rwr', '/goes'), { timeoutMs: 5000 }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RemotedError);
    expect((refused as RemotedError).code).toBe('missing_destination');

    await waitFor(() => listenerIdOn('/changes') !== undefined && listenerIdOn('/changes') !== changesId, 'the changed route is back with a new listener');
    await link('/changes', 'beta');
    // The link made before the change still reaches the old service.
    await roundTrip(onChanged, 'still alpha');
    expect(listenerIdOn('/stays')).toBe(staysId);
  });

  it('a route the relay refuses stops alone; once none is left, its exit code is the process\'s', async () => {
    const file = join(dir, 'routes.json');
    const relayUrl = `rws://127.0.0.1:${relay.port}`;
    writeFileSync(file, JSON.stringify({ relay: relayUrl, key: relay.keys.server, routes: [
      { path: '/good', to: `127.0.0.1:${alpha.port}` },
      { path: '/badkey', key: 'not-a-key', to: `127.0.0.1:${alpha.port}` },
    ] }));
    const cli = expose(file);
    await cli.waitForLog(/warning: rws:\/\/127\.0\.0\.1:\d+\/badkey: stopped: invalid_missing_apikey/);
    await cli.waitForLog(/listening on .*\/good,/);
    await roundTrip(await link('/good', 'alpha'), 'still served');
    expect(cli.child.exitCode).toBeNull();

    writeFileSync(file, JSON.stringify({ relay: relayUrl, key: 'not-a-key', routes: [{ path: '/only', to: `127.0.0.1:${alpha.port}` }] }));
    const alone = expose(file);
    expect(await alone.exited).toBe(3);
  });

  it('SIGTERM drains every route and exits 0', async () => {
    const cli = expose(writeRoutes([
      { path: '/one', to: `127.0.0.1:${alpha.port}` },
      { path: '/two', to: `127.0.0.1:${beta.port}` },
    ]));
    await cli.waitForLog(/listening on .*\/one,/);
    await cli.waitForLog(/listening on .*\/two,/);
    const open = await link('/one', 'alpha');
    cli.child.kill('SIGTERM');
    await cli.waitForLog(/SIGTERM: draining 2 route\(s\), 1 link open/);
    await roundTrip(open, 'while draining');
    open.end();
    expect(await cli.exited).toBe(0);
    await waitFor(() => listenersOn(relay, '/one').length === 0 && listenersOn(relay, '/two').length === 0, 'both routes are given back');
  });
});
