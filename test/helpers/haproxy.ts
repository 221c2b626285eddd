/**
 * Debian's haproxy for tests: TCP mode, round-robin over the given relay
 * ports, each checked with GET /healthz (so a hung node, whose kernel still
 * accepts connections, is taken out), run in the foreground as a child of
 * the test on a free loopback port. docs/cluster.md shows the same settings.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HAPROXY = '/usr/sbin/haproxy';
const START_TIMEOUT_MS = 10_000;

export interface RunningHaproxy {
  port: number;
  stop(): Promise<void>;
}

/** The configuration docs/cluster.md gives, with test ports and faster checks. */
export function haproxyConfig(port: number, backends: readonly number[], checkIntervalMs = 500): string {
  return [
    'global',
    // Each connection costs two descriptors (client and node side); 2000 fits the soft limit of most machines.
    '  maxconn 2000',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    // Listeners and links stay open as long as they like; the relay and the SDK ping them.
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout tunnel 1h',
    `  timeout check ${checkIntervalMs}ms`,
    'frontend relay',
    `  bind 127.0.0.1:${port}`,
    '  default_backend relay_nodes',
    'backend relay_nodes',
    '  balance roundrobin',
    '  option httpchk GET /healthz',
    '  http-check expect status 200',
    // A node taken out has its connections cut: its listeners reconnect to the live nodes at once.
    '  default-server on-marked-down shutdown-sessions',
    ...backends.map((backend, i) => `  server node${i + 1} 127.0.0.1:${backend} check inter ${checkIntervalMs} fall 2 rise 2`),
    '',
  ].join('\n');
}

export async function startHaproxy(backends: readonly number[]): Promise<RunningHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'remoted-haproxy-'));
  const port = await freePort();
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(port, backends));
  const child: ChildProcess = spawn(HAPROXY, ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4096)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`haproxy did not start on ${port}: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  let stopped: Promise<void> | undefined;
  return {
    port,
    stop: () =>
      (stopped ??= (async () => {
        child.kill('SIGKILL');
        await exited;
        rmSync(dir, { recursive: true, force: true });
      })()),
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

