/**
 * Moves busy links to a splice worker: a plain Node process, started on the
 * first move, that relays them with a heap a fraction of the relay's (see
 * splice-worker.ts). Short links never move: one timer looks at the watched
 * links' byte counts and moves those that read MOVE_AFTER_BYTES since its
 * last look. A link is watched for its first HOT_MS only, or again once the
 * relay's sweep sees it busy (Link.checkIdle): thousands of idle links must
 * not be read every 50 ms. Sockets move with `child.send(message, socket)`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { Link, SpliceHost } from '../link';
import type { FromSpliceWorker, ToSpliceWorker } from './splice-messages';

/**
 * The worker's compiled main module: beside this file in dist/, or, when the
 * relay runs from its TypeScript sources (jest, after `npm run build`), the
 * same file in dist/. The worker is always the built JavaScript that
 * production runs, never a copy of a function's source.
 */
export function spliceWorkerFile(): string {
  const runsFromSource = __filename.endsWith('.ts');
  return runsFromSource ? resolve(__dirname, '..', '..', '..', '..', 'dist', 'relay', 'links', 'offload', 'splice-worker.js') : join(__dirname, 'splice-worker.js');
}

/** The part of pino (or Nest's Logger) the pool logs through. */
export interface SpliceLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SplicePoolOptions {
  log: SpliceLog;
  /** Ms between looks at the watched links. */
  checkIntervalMs?: number;
  /** Bytes a link reads between two looks to be moved. */
  moveAfterBytes?: number;
}

const CHECK_INTERVAL_MS = 50;
/** A link whose pending writes do not drain in this time is not moved: it relays here again, for good. */
const FLUSH_TIMEOUT_MS = 200;
/** 1 MiB in 50 ms: about 20 MB/s, far above what an interactive link moves. */
const MOVE_AFTER_BYTES = 1024 * 1024;
/** How long a link is watched after it starts or is seen busy again. */
const HOT_MS = 1000;
/** Workers that may exit unasked before the pool stops moving links (they stay in the relay). */
const MAX_WORKER_FAILURES = 3;

interface Worker {
  child: ChildProcess;
  ready: boolean;
  /** Links moved to it (or on their way), by id. */
  links: Map<string, Link>;
}

export class SplicePool implements SpliceHost {
  /** Links that could move, with their bytesRead at the last look and when they stop being watched. */
  private readonly watched = new Map<Link, { read: number; until: number }>();
  /** Links paused for a move until their writes drain, with the time to give up. */
  private readonly flushing = new Map<Link, number>();
  private readonly checkIntervalMs: number;
  private readonly moveAfterBytes: number;
  private timer: NodeJS.Timeout | undefined;
  private worker: Worker | undefined;
  private failures = 0;
  private closed = false;

  private readonly workerFile = spliceWorkerFile();

  constructor(private readonly options: SplicePoolOptions) {
    this.checkIntervalMs = options.checkIntervalMs ?? CHECK_INTERVAL_MS;
    this.moveAfterBytes = options.moveAfterBytes ?? MOVE_AFTER_BYTES;
    // Said at start, not at the first busy link: a relay run from sources that were never built.
    if (!existsSync(this.workerFile)) throw new Error(`The splice worker ${this.workerFile} is not built: run npm run build.`);
  }

  /** Links relayed by the worker now. */
  get movedCount(): number {
    return this.worker?.links.size ?? 0;
  }

  /** The worker's pid, once started. */
  get workerPid(): number | undefined {
    return this.worker?.child.pid;
  }

  watch(link: Link): void {
    if (this.closed || this.failures >= MAX_WORKER_FAILURES) return;
    const watching = this.watched.get(link);
    if (watching) watching.until = Date.now() + HOT_MS;
    else this.watched.set(link, { read: link.bytesRead, until: Date.now() + HOT_MS });
    this.updateTimer();
  }

  /** The timer stops at its next look if nothing is left to watch, not here: short links come and go by the thousand. */
  unwatch(link: Link): void {
    this.watched.delete(link);
    this.flushing.delete(link);
  }

  destroyMoved(link: Link): void {
    const worker = this.worker;
    if (worker?.links.get(link.id) === link) this.send(worker, { type: 'destroy', link: link.id });
  }

  /** Stops moving links and ends the worker; links still in it close (as errors: call this after they are ended). */
  close(): void {
    this.closed = true;
    for (const link of [...this.flushing.keys()]) link.stayHere();
    this.watched.clear();
    this.flushing.clear();
    this.updateTimer();
    const worker = this.worker;
    if (worker?.child.connected) worker.child.disconnect();
  }

  /** One timer, running while any link is watched or flushing. */
  private updateTimer(): void {
    const needed = !this.closed && this.watched.size + this.flushing.size > 0;
    if (needed) this.timer ??= setInterval(this.check, this.checkIntervalMs).unref();
    else if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private readonly check = (): void => this.look(Date.now());

  /** One look at the watched links (the timer's; tests call it with their own clock). */
  look(now: number): void {
    for (const [link, giveUpAt] of this.flushing) {
      if (now < giveUpAt) continue;
      this.unwatch(link);
      link.stayHere();
    }
    for (const [link, watching] of this.watched) {
      const read = link.bytesRead;
      const before = watching.read;
      watching.read = read;
      if (read - before < this.moveAfterBytes || !link.canMove) {
        // Quiet for its whole watch: the sweep brings it back if it gets busy.
        if (now >= watching.until) this.watched.delete(link);
        continue;
      }
      const worker = this.readyWorker();
      if (!worker) return;
      this.watched.delete(link);
      this.flushing.set(link, now + FLUSH_TIMEOUT_MS);
      link.prepareMove(() => this.move(link, worker));
    }
    this.updateTimer();
  }

  /** The worker if it can take links now; starts one if there is none. */
  private readyWorker(): Worker | undefined {
    if (this.closed || this.failures >= MAX_WORKER_FAILURES) return undefined;
    this.worker ??= this.startWorker();
    return this.worker.ready ? this.worker : undefined;
  }

  private move(link: Link, worker: Worker): void {
    // Given up on (stayHere) or closed while its writes drained: takeSockets says so.
    if (!this.flushing.delete(link)) return;
    if (this.worker !== worker || !worker.child.connected) return link.stayHere();
    const move = link.takeSockets();
    if (!move) return;
    worker.links.set(link.id, link);
    this.sendSide(worker, link, 0, move.dialer, move.firstToDialer);
    this.sendSide(worker, link, 1, move.listener, move.firstToListener);
  }

  private sendSide(worker: Worker, link: Link, side: 0 | 1, socket: Socket, first: Buffer): void {
    const message: ToSpliceWorker = { type: 'side', link: link.id, side, first: first.toString('base64') };
    // keepOpen: this process closes its copy itself, once the worker has the socket (releaseSockets).
    worker.child.send(message, socket, { keepOpen: true }, (err) => {
      if (err) this.fail(worker, err);
    });
  }

  private send(worker: Worker, message: ToSpliceWorker): void {
    if (!worker.child.connected) return;
    worker.child.send(message, (err) => {
      if (err) this.fail(worker, err);
    });
  }

  /** A worker whose channel failed is of no more use: it is killed, and its exit closes its links. */
  private fail(worker: Worker, err: Error): void {
    this.options.log.error({ err, pid: worker.child.pid }, 'splice worker channel failed');
    worker.child.kill('SIGKILL');
  }

  private startWorker(): Worker {
    // No execArgv of the relay's (a profiler, --expose-gc, an inspector port): the worker is a plain Node process.
    const child = fork(this.workerFile, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    const worker: Worker = { child, ready: false, links: new Map() };
    // Neither keeps the relay running; the worker exits when the relay does (its channel closes).
    child.unref();
    child.channel?.unref();
    child.on('message', (message: FromSpliceWorker) => this.onMessage(worker, message));
    child.on('error', (err) => this.options.log.error({ err }, 'splice worker failed'));
    child.once('exit', (code, signal) => this.onExit(worker, code, signal));
    return worker;
  }

  private onMessage(worker: Worker, message: FromSpliceWorker): void {
    switch (message.type) {
      case 'ready':
        worker.ready = true;
        this.options.log.info({ pid: worker.child.pid }, 'splice worker started');
        return;
      case 'adopted':
        worker.links.get(message.link)?.releaseSockets();
        return;
      case 'counts':
        for (const [id, counts] of message.links) worker.links.get(id)?.updateMovedCounts(counts);
        return;
      case 'closed': {
        const link = worker.links.get(message.link);
        worker.links.delete(message.link);
        link?.movedClosed(message.counts, message.error);
        return;
      }
    }
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.worker === worker) this.worker = undefined;
    const links = [...worker.links.values()];
    worker.links.clear();
    if (!this.closed) {
      this.failures++;
      this.options.log.error({ code, signal, links: links.length, failures: this.failures }, 'splice worker exited; its links are closed');
    }
    for (const link of links) link.movedClosed(undefined, true);
  }
}
