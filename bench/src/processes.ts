/** Child processes of the bench, each announcing itself with one JSON line on stdout. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Child<T> {
  process: ChildProcess;
  pid: number;
  info: T;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;

export function startNode<T>(script: string, args: string[], env: NodeJS.ProcessEnv, waitFor: (line: string) => T | undefined): Promise<Child<T>> {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in ${STARTUP_TIMEOUT_MS} ms`)), STARTUP_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const info = waitFor(line);
      if (info === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(asChild(child, info));
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
export function asChild<T>(child: ChildProcess, info: T): Child<T> {
  return {
    process: child,
    pid: child.pid!,
    info,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export function jsonLine<T>(line: string): T | undefined {
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const BENCH_DIST = __dirname;
export const RELAY_MAIN = join(__dirname, '..', '..', 'dist', 'main.js');
