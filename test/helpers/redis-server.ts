/**
 * Debian's redis-server for tests: a child of the test (not daemonized, so
 * it dies with its owner), on a free loopback port, with no persistence
 * unless restart() asks for it, its files in one temporary directory that
 * stop() removes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REDIS_SERVER = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5000;
/** The last bytes of the server's output, for the error when it does not start. */
const KEPT_OUTPUT_BYTES = 4096;

export interface RunningRedis {
  url: string;
  port: number;
  /** SIGCONT if paused, SIGTERM (SIGKILL after a grace), wait for the exit, remove the directory. Idempotent. */
  stop(): Promise<void>;
  /** SIGSTOP: the server keeps its connections open and answers nothing, like a frozen host. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SHUTDOWN SAVE, then a new server on the same port that loads what was saved: a Redis with persistence restarting. */
  restart(): Promise<void>;
}

export async function startRedis(): Promise<RunningRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'remoted-redis-'));
  const port = await freePort();
  let server = spawnRedis(port, dir);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await stopChild(server.child);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    await untilPong(port, server);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    pause: () => server.child.kill('SIGSTOP'),
    resume: () => server.child.kill('SIGCONT'),
    async restart() {
      server.child.kill('SIGCONT');
      const exited = exitOf(server.child);
      // The server closes the connection as it exits: no answer is the answer.
      await send(port, 'SHUTDOWN SAVE\r\n').catch(() => '');
      await exited;
      server = spawnRedis(port, dir);
      await untilPong(port, server);
    },
  };
}

interface RedisChild {
  child: ChildProcess;
  output: () => string;
}

function spawnRedis(port: number, dir: string): RedisChild {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-KEPT_OUTPUT_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

async function untilPong(port: number, server: RedisChild): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`redis-server exited (${server.child.exitCode}): ${server.output()}`);
    // Until it has loaded its data a server answers -LOADING, which is not ready either.
    if ((await send(port, 'PING\r\n').catch(() => '')).startsWith('+PONG')) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on ${port} within ${START_TIMEOUT_MS} ms: ${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Writes one inline command, resolves with the first bytes of the answer (or '' when the server closes first). */
function send(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000, () => socket.destroy(new Error(`no answer on ${port}`)));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(command));
    socket.once('data', (chunk: Buffer) => {
      resolve(chunk.toString());
      socket.destroy();
    });
    socket.once('close', () => resolve(''));
  });
}


function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = exitOf(child);
  // A stopped process keeps SIGTERM pending until it runs again.
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
