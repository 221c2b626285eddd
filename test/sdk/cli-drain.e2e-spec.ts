/**
 * The built `remoted expose` with --spares and its drain on SIGTERM/SIGINT:
 * open links finish (up to --drain-timeout), then exit 0; a second signal
 * exits at once. Needs `npm run build:sdk` (as cli.e2e-spec.ts does).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { dial, RemotedError } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { listenersOn, sha256, sparesHeld } from './listener-helpers';
import { readAll } from './sdk-helpers';

const CLI = join(__dirname, '..', '..', 'sdk', 'dist', 'cli', 'main.js');

interface Cli {
  child: ChildProcessWithoutNullStreams;
  stderr(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function runCli(args: string[]): Cli {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    exited,
    async waitForLog(pattern, timeoutMs = 10_000) {
      let match: RegExpMatchArray | null = null;
      await waitFor(() => (match = pattern.exec(stderr)) !== null, `${pattern} in stderr: ${stderr}`, timeoutMs);
      return match as unknown as RegExpMatchArray;
    },
  };
}

/** A local TCP service that answers the SHA-256 of what it read once the client ends. */
async function startHashService(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const hash = createHash('sha256');
    socket.on('data', (chunk: Buffer) => hash.update(chunk));
    socket.once('end', () => socket.end(hash.digest('hex')));
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

/** Resolves with the time from now to the process's exit, and its code. */
async function timeToExit(cli: Cli): Promise<{ ms: number; code: number | null }> {
  const started = Date.now();
  const code = await cli.exited;
  return { ms: Date.now() - started, code };
}

describe('remoted expose: spares and drain', () => {
  let relay: StartedRelay;
  let service: { port: number; close(): Promise<void> };
  const clis: Cli[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    service = await startHashService();
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const cli of clis.splice(0)) {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    }
  });
  afterAll(async () => {
    await service.close();
    await relay.close();
  });

  function expose(path: string, ...flags: string[]): Cli {
    const cli = runCli(['expose', relay.url('rws', path), '--to', `127.0.0.1:${service.port}`, ...flags]);
    clis.push(cli);
    return cli;
  }

  async function openTransfer(path: string, first: string): Promise<{ socket: Socket; digest: Promise<string> }> {
    const socket = await dial(relay.url('rwr', path), { timeoutMs: 5000 });
    sockets.push(socket);
    const digest = readAll(socket, 20_000).then((data) => data.toString());
    // Some tests never read the answer: their link is cut or destroyed at cleanup.
    digest.catch(() => undefined);
    socket.write(first);
    return { socket, digest };
  }

  it('SIGTERM: no new links, the open one finishes intact, then exit 0', async () => {
    const cli = expose('/drain', '--spares', '2', '--drain-timeout', '20');
    await cli.waitForLog(/listening on .*\/drain, exposing 127\.0\.0\.1:\d+, 2 spares/);
    const [route] = listenersOn(relay, '/drain');
    await waitFor(() => sparesHeld(relay, route?.listenerId) === 2, 'the CLI keeps 2 spares at the relay');

    const { socket, digest } = await openTransfer('/drain', 'first, ');
    await waitFor(() => (listenersOn(relay, '/drain')[0]?.activeLinks ?? 0) === 1, 'the link is up');
    cli.child.kill('SIGTERM');
    await cli.waitForLog(/SIGTERM: draining, 1 link open/);
    await waitFor(() => listenersOn(relay, '/drain')[0]?.state === 'draining', 'the relay sees the drain');
    const refused = await dial(relay.url('rwr', '/drain'), { timeoutMs: 5000 }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RemotedError);
    expect((refused as RemotedError).code).toBe('missing_destination');
    expect(cli.child.exitCode).toBeNull();

    socket.end('last');
    expect(await digest).toBe(sha256('first, last'));
    expect(await timeToExit(cli)).toMatchObject({ code: 0 });
    await waitFor(() => listenersOn(relay, '/drain').length === 0, 'the route is given back');
  });

  it('--drain-timeout: a link still open then is cut, exit 0', async () => {
    const cli = expose('/slow', '--drain-timeout', '1');
    await cli.waitForLog(/listening on .*\/slow/);
    const { digest } = await openTransfer('/slow', 'never finished');
    await waitFor(() => (listenersOn(relay, '/slow')[0]?.activeLinks ?? 0) === 1, 'the link is up');
    cli.child.kill('SIGINT');
    const exit = await timeToExit(cli);
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeGreaterThanOrEqual(900);
    expect(exit.ms).toBeLessThan(5000);
    expect(cli.stderr()).toMatch(/drain timeout: 1 link\(s\) cut/);
    // The dialer sees its link end without the service's answer.
    expect(await digest).toBe('');
  });

  it('a second signal exits at once', async () => {
    const cli = expose('/twice', '--drain-timeout', '60');
    await cli.waitForLog(/listening on .*\/twice/);
    await openTransfer('/twice', 'held open');
    await waitFor(() => (listenersOn(relay, '/twice')[0]?.activeLinks ?? 0) === 1, 'the link is up');
    cli.child.kill('SIGTERM');
    await cli.waitForLog(/SIGTERM: draining/);
    cli.child.kill('SIGTERM');
    const exit = await timeToExit(cli);
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(3000);
    expect(cli.stderr()).toMatch(/SIGTERM again: 1 link\(s\) cut/);
  });

  it('rejects a bad --spares or --drain-timeout as usage (exit 2) and documents both in --help', async () => {
    for (const flags of [['--spares', 'many'], ['--spares', '100000'], ['--drain-timeout', '-1']]) {
      const cli = expose('/bad', ...flags);
      expect(await cli.exited).toBe(2);
    }
    const help = runCli(['expose', '--help']);
    clis.push(help);
    let stdout = '';
    help.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    expect(await help.exited).toBe(0);
    expect(stdout).toMatch(/--spares <n\|auto>/);
    expect(stdout).toMatch(/--drain-timeout <seconds>/);
  });
});
