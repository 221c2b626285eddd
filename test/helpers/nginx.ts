/**
 * Debian's nginx for tests: found on disk, run in the foreground with a
 * generated config whose every file lives in one temporary directory, on a
 * free loopback port, and stopped (then the directory removed) by stop().
 * Tests that need it skip only where nginx is missing and CI is not set.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTo } from './raw-http';

const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];
export const nginxBinary = NGINX_CANDIDATES.find((path) => existsSync(path));

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5000;

/** `describe`, or `describe.skip` with a warning naming `what` when nginx is missing outside CI. */
export function describeWithNginx(what: string): jest.Describe {
  if (nginxBinary || process.env.CI) return describe;
  // eslint-disable-next-line no-console
  console.warn(`${what} skipped: nginx is not installed (apt-get install nginx); in CI (CI set) this test runs and fails without it`);
  return describe.skip;
}

export interface NginxPaths {
  /** The temporary directory: pid, logs and temp paths go here. */
  dir: string;
  /** The free loopback port nginx must listen on. */
  port: number;
}

export interface StartedNginx extends NginxPaths {
  errorLog: string;
  /** SIGTERM (SIGKILL after a grace), wait for the exit, remove the directory. */
  stop(): Promise<void>;
}

/** Starts nginx with the config `configFor` writes, once it accepts connections on its port. */
export async function startNginx(configFor: (paths: NginxPaths) => string): Promise<StartedNginx> {
  if (!nginxBinary) throw new Error('CI is set but nginx is not installed: .ci/run installs it with apt-get');
  const dir = mkdtempSync(join(tmpdir(), 'remoted-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, configFor({ dir, port }));
  const errorLog = join(dir, 'error.log');
  const child = spawn(nginxBinary, ['-c', conf, '-p', dir, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, errorLog);
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, port, errorLog, stop };
}


async function waitForPort(port: number, nginx: ChildProcess, errorLog: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited (${nginx.exitCode}): ${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`);
    try {
      const socket = await connectTo(port);
      socket.destroy();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * The start of a test nginx.conf: foreground, one process, every file in the
 * test's directory. The caller writes the rest of the `http` block and closes it.
 */
export function nginxConfigHead(dir: string, opts: { errorLogLevel: string; accessLog: string; workerConnections: number }): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log ${opts.errorLogLevel};
events { worker_connections ${opts.workerConnections}; }
http {
  access_log ${opts.accessLog};
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
`;
}
