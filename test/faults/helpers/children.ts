/**
 * Child processes of the fault suite: each is tracked so that `killAll()`
 * (in afterEach) ends every one of them, even when a test failed half-way.
 * Children announce what happens with one JSON line per event on stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../helpers/free-port';

export { freePort };

export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const RELAY_MAIN = join(REPO_ROOT, 'dist', 'main.js');
export const SDK_LISTENER = join(__dirname, '..', 'fixtures', 'sdk-listener.js');

export interface ChildEvent {
  event: string;
  [field: string]: unknown;
}

export class FaultChild {
  readonly events: ChildEvent[] = [];
  private readonly waiters = new Set<{ match: (e: ChildEvent) => boolean; resolve: (e: ChildEvent) => void }>();
  readonly exited: Promise<void>;

  constructor(readonly process: ChildProcess) {
    this.exited = new Promise((resolve) => {
      if (process.exitCode !== null || process.signalCode !== null) resolve();
      else process.once('exit', () => resolve());
    });
    if (process.stdout) {
      createInterface({ input: process.stdout }).on('line', (line) => {
        let event: ChildEvent;
        try {
          event = JSON.parse(line) as ChildEvent;
        } catch {
          return;
        }
        this.events.push(event);
        for (const waiter of [...this.waiters]) {
          if (waiter.match(event)) {
            this.waiters.delete(waiter);
            waiter.resolve(event);
          }
        }
      });
    }
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error('child has no pid');
    return this.process.pid;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** The first event (already seen after `fromIndex`, or still to come) named `name`. */
  nextEvent(name: string, timeoutMs = 10_000, fromIndex = 0): Promise<ChildEvent> {
    const seen = this.events.slice(fromIndex).find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match: (e: ChildEvent) => e.event === name,
        resolve: (e: ChildEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no '${name}' from pid ${this.pid} within ${timeoutMs} ms (saw: ${this.events.map((e) => e.event).join(', ')})`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** SIGKILL, and resolves once the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.process.kill(signal);
    await this.exited;
  }
}

export class ChildSet {
  private readonly children = new Set<FaultChild>();

  spawnNode(script: string, args: string[], env: NodeJS.ProcessEnv, stdout: 'pipe' | 'ignore' = 'pipe'): FaultChild {
    const child = new FaultChild(
      spawn(process.execPath, [script, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', stdout, 'inherit'] }),
    );
    this.children.add(child);
    return child;
  }

  /** Kills every child still running (SIGCONT first, for a stopped one). */
  async killAll(): Promise<void> {
    const all = [...this.children];
    this.children.clear();
    for (const child of all) {
      if (child.running) {
        child.process.kill('SIGCONT');
        child.process.kill('SIGKILL');
      }
    }
    await Promise.all(all.map((c) => c.exited));
  }
}


/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, child: FaultChild, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    if (!child.running) throw new Error(`pid ${child.pid} exited before port ${port} answered`);
    if (Date.now() > deadline) throw new Error(`port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RelayProcessOptions {
  port: number;
  dataDir: string;
  keys: { server: string; client: string };
  extraArgs?: string[];
}

/** The relay as an operator starts it: `node dist/main.js` with flags. */
export async function startRelayProcess(children: ChildSet, opts: RelayProcessOptions): Promise<FaultChild> {
  const args = ['--port', String(opts.port), '--data-dir', opts.dataDir, '--server-key', opts.keys.server, '--client-key', opts.keys.client, '--log-level', 'warn', ...(opts.extraArgs ?? [])];
  const child = children.spawnNode(RELAY_MAIN, args, { REMOTED_GRPC_PORT: '0', REMOTED_STATUS_PORT: '0' }, 'ignore');
  await waitForPort(opts.port, child);
  return child;
}

/** Resident set size of a process, from /proc (Linux). */
/** RSS of the process and its live children (the relay's splice worker holds link buffers too). */
export function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  let total = Number(match[1]) * 1024;
  for (const child of childPids(pid)) {
    try {
      total += rssOf(child);
    } catch {
      // It exited meanwhile.
    }
  }
  return total;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}

export const MIB = 1024 * 1024;

/** The promise's value, or a failure naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
