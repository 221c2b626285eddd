/**
 * Links that move to the splice worker: real sockets on 127.0.0.1, a Link
 * built with `new` and a SplicePool that moves any link reading 64 KiB
 * between two looks 10 ms apart.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { Link } from '../../../../src/relay/links/link';
import type { LinkCloseReason } from '../../../../src/relay/context/relay-events';
import { SplicePool, spliceWorkerFile } from '../../../../src/relay/links/offload/splice-pool';
import { ended, waitFor } from '../../../helpers/wait-for';

const MiB = 1024 * 1024;
const silent = { info: () => undefined, error: () => undefined };

interface Pair {
  link: Link;
  /** The peers: what the dialer and the listener hold. */
  dialer: Socket;
  listener: Socket;
  /** The relay's socket to the dialer. */
  dialerSide: Socket;
  closes: LinkCloseReason[];
}

describe('the splice pool', () => {
  let server: Server;
  let pool: SplicePool;
  let accepted: Socket[];
  const peers: Socket[] = [];
  const errors: Error[] = [];

  beforeEach(async () => {
    accepted = [];
    server = createServer({ allowHalfOpen: true }, (socket) => accepted.push(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    pool = new SplicePool({ log: { info: silent.info, error: (obj: object) => errors.push(obj as Error) }, checkIntervalMs: 10, moveAfterBytes: 64 * 1024 });
  });

  afterEach(async () => {
    for (const socket of [...peers, ...accepted]) socket.destroy();
    peers.length = 0;
    errors.length = 0;
    const pid = pool.workerPid;
    pool.close();
    server.close();
    if (pid !== undefined) await waitFor(() => !alive(pid), 'the worker exits with its pool');
  });

  async function peer(): Promise<Socket> {
    const count = accepted.length;
    const socket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
    peers.push(socket);
    await once(socket, 'connect');
    await waitFor(() => accepted.length > count, 'the server accepts');
    return socket;
  }

  async function makePair(receiveDelayMs = 0, splice = pool): Promise<Pair> {
    const dialer = await peer();
    const dialerSide = accepted[accepted.length - 1];
    const listener = await peer();
    const listenerSide = accepted[accepted.length - 1];
    const closes: LinkCloseReason[] = [];
    const link = new Link(
      {
        id: `lnk_${accepted.length}`,
        path: '/splice',
        listenerId: 'lst_1',
        dialerKeyId: 'key_d',
        listenerKeyId: 'key_l',
        dialerAddress: '127.0.0.1:1',
        dialer: { socket: dialerSide, answer: '', head: Buffer.from('HEAD-D'), receiveDelayMs },
        listener: { socket: listenerSide, answer: '', head: Buffer.from('HEAD-L'), receiveDelayMs },
        idleTimeoutMs: 60_000,
        now: Date.now(),
        splice,
      },
      (_link, reason) => closes.push(reason),
    );
    link.start();
    return { link, dialer, listener, dialerSide, closes };
  }

  /**
   * Writes `total` random bytes; once a quarter is out, goes on slowly until
   * the link has moved. Resolves to the SHA-256 of `head` and those bytes.
   */
  async function send(socket: Socket, total: number, link: Link, head: string): Promise<string> {
    const hash = createHash('sha256').update(head);
    for (let sent = 0; sent < total; ) {
      const chunk = randomBytes(Math.min(256 * 1024, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      if (!socket.write(chunk)) await once(socket, 'drain');
      if (sent >= total / 4 && !link.isMoved) await new Promise((r) => setTimeout(r, 2));
    }
    return hash.digest('hex');
  }

  /** Reads until the peer's FIN: SHA-256 and length of what came. */
  async function receive(socket: Socket): Promise<{ sha: string; bytes: number }> {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    await ended(socket, 60_000);
    return { sha: hash.digest('hex'), bytes };
  }

  it('moves a busy link mid-transfer: 64 MiB each way arrive intact, heads first, and the counts add up', async () => {
    const { link, dialer, listener, closes } = await makePair();
    const size = 64 * MiB;
    const toListener = receive(listener);
    const toDialer = receive(dialer);
    const [sentByDialer, sentByListener] = await Promise.all([send(dialer, size, link, 'HEAD-D'), send(listener, size, link, 'HEAD-L')]);
    expect(link.isMoved).toBe(true);
    dialer.end();
    listener.end();
    // Each side gets the other's head (what came with its request) first, then its bytes.
    expect(await toListener).toEqual({ sha: sentByDialer, bytes: size + 6 });
    expect(await toDialer).toEqual({ sha: sentByListener, bytes: size + 6 });
    await waitFor(() => closes.length === 1, 'the link reports its close');
    expect(closes).toEqual(['closed']);
    expect(link.isClosed).toBe(true);
    expect(link.snapshot()).toMatchObject({ bytesToListener: size + 6, bytesToDialer: size + 6 });
    expect(errors).toEqual([]);
  }, 60_000);

  /**
   * Streams dialer -> listener (the listener drops it) until the link has
   * moved; resolves to the bytes sent. `look`: a pool run by hand.
   */
  async function moveIt({ link, dialer, listener }: Pair, look?: () => void): Promise<number> {
    listener.on('data', () => undefined);
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    while (!link.isMoved) {
      sent += chunk.length;
      if (!dialer.write(chunk)) await once(dialer, 'drain');
      await new Promise((r) => setTimeout(r, 1));
      look?.();
    }
    await waitFor(() => link.bytesToListener === sent + 6, 'what was sent before the move arrives and is counted', 5000);
    listener.removeAllListeners('data');
    return sent;
  }

  it('passes a FIN on as a FIN after the move: the other way keeps flowing until its own FIN', async () => {
    const pair = await makePair();
    await moveIt(pair);
    const { dialer, listener, closes } = pair;
    dialer.end();
    await ended(listener);
    listener.write('after-half-close');
    const got: Buffer[] = [];
    dialer.on('data', (c: Buffer) => got.push(c));
    await waitFor(() => Buffer.concat(got).toString().endsWith('after-half-close'), 'bytes still reach the half-closed dialer');
    expect(closes).toEqual([]);
    listener.end();
    await ended(dialer);
    await waitFor(() => closes.length === 1, 'the link closes after both FINs');
    expect(closes).toEqual(['closed']);
  });

  it('destroys the other side when one side resets after the move', async () => {
    const pair = await makePair();
    await moveIt(pair);
    pair.dialer.resetAndDestroy();
    await gone(pair.listener);
    await waitFor(() => pair.closes.length === 1, 'the link reports its close');
    expect(['closed', 'error']).toContain(pair.closes[0]);
  });

  it('reports the worker counts in snapshot() and the idle check while the link is open', async () => {
    const pair = await makePair();
    const before = await moveIt(pair);
    const got: Buffer[] = [];
    pair.dialer.on('data', (c: Buffer) => got.push(c));
    pair.listener.write(Buffer.alloc(100_000, 0x62));
    await waitFor(() => pair.link.bytesToDialer === 100_006, 'the worker reports bytes to the dialer', 3000);
    expect(pair.link.snapshot()).toMatchObject({ bytesToListener: before + 6, bytesToDialer: 100_006 });
    const now = Date.now();
    pair.link.checkIdle(now);
    pair.link.checkIdle(now + 59_999);
    expect(pair.closes).toEqual([]);
    pair.link.checkIdle(now + 60_000);
    await gone(pair.dialer);
    await waitFor(() => pair.closes.length === 1, 'the idle link closes');
    expect(pair.closes).toEqual(['idle_timeout']);
  });

  it('closes a moved link at once on destroy (control plane, shutdown)', async () => {
    const pair = await makePair();
    await moveIt(pair);
    pair.link.destroy('forced');
    await Promise.all([gone(pair.dialer), gone(pair.listener)]);
    await waitFor(() => pair.closes.length === 1, 'the link reports its close');
    expect(pair.closes).toEqual(['forced']);
  });

  it('closes the links of a worker that dies, as errors, and starts another for the next busy link', async () => {
    const first = await makePair();
    const second = await makePair();
    await moveIt(first);
    await moveIt(second);
    const pid = pool.workerPid!;
    process.kill(pid, 'SIGKILL');
    await Promise.all([first, second].flatMap((p) => [gone(p.dialer), gone(p.listener)]));
    await waitFor(() => first.closes.length + second.closes.length === 2, 'both links report their close');
    expect([...first.closes, ...second.closes]).toEqual(['error', 'error']);
    expect(errors).toHaveLength(1);
    const third = await makePair();
    await moveIt(third);
    expect(pool.workerPid).not.toBe(pid);
    third.dialer.write('still relays');
    third.listener.on('data', () => undefined);
    third.dialer.end();
    await ended(third.listener);
  });

  it('gives up a move whose writes do not drain: a dialer that reads only once its own writes went through', async () => {
    // A pool that looks only when told to, so the look comes while the dialer's way is clogged.
    const manual = new SplicePool({ log: silent, checkIntervalMs: 3_600_000, moveAfterBytes: 64 * 1024 });
    try {
      await moveIt(await makePair(0, manual), () => manual.look(Date.now())); // the worker is up
      const { link, dialer, listener, dialerSide } = await makePair(0, manual);
      // The listener answers 32 MiB at once; the dialer reads nothing until all its 64 MiB are out (more than the kernel buffers hold).
      const fromListener = randomBytes(32 * MiB);
      listener.write(fromListener);
      const atListener: Buffer[] = [];
      listener.on('data', (c: Buffer) => atListener.push(c));
      await waitFor(() => dialerSide.writableLength > 0, "the relay's writes to the dialer wait");
      manual.look(Date.now());
      expect(link.canMove || link.isMoved).toBe(false); // paused until those writes drain
      const fromDialer = randomBytes(64 * MiB);
      const sending = (async () => {
        for (let at = 0; at < fromDialer.length; at += MiB) {
          if (!dialer.write(fromDialer.subarray(at, at + MiB))) await once(dialer, 'drain');
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      expect(dialer.writableLength).toBeGreaterThan(0); // stuck while the link is paused
      manual.look(Date.now() + 60_000); // past the time a move may wait for writes to drain
      await sending;
      const atDialer: Buffer[] = [];
      dialer.on('data', (c: Buffer) => atDialer.push(c));
      const length = (chunks: Buffer[]): number => chunks.reduce((n, c) => n + c.length, 0);
      await waitFor(() => length(atDialer) === fromListener.length + 6, 'the dialer gets all of the answer', 10_000);
      await waitFor(() => length(atListener) === fromDialer.length + 6, 'the listener gets all of the request', 10_000);
      expect(Buffer.concat(atDialer).subarray(6).equals(fromListener)).toBe(true);
      expect(Buffer.concat(atListener).subarray(6).equals(fromDialer)).toBe(true);
      expect(link.isMoved).toBe(false);
    } finally {
      manual.close();
    }
  }, 30_000);

  it('runs the worker from its own compiled file, with none of the relay\'s node options', async () => {
    const pair = await makePair();
    await moveIt(pair);
    const argv = readFileSync(`/proc/${pool.workerPid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
    expect(argv).toEqual([process.execPath, spliceWorkerFile()]);
    expect(spliceWorkerFile()).toMatch(/dist\/relay\/links\/offload\/splice-worker\.js$/);
  });

  it('leaves a quiet link in the relay', async () => {
    const { link, dialer, listener } = await makePair();
    for (let i = 0; i < 20; i++) {
      dialer.write('x');
      await new Promise((r) => setTimeout(r, 2));
    }
    listener.on('data', () => undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(link.isMoved).toBe(false);
    expect(pool.workerPid).toBeUndefined();
  });

  it('stops reading a link quiet for its first second, and watches it again once the sweep sees it busy', async () => {
    const { link, dialer, listener } = await makePair();
    listener.on('data', () => undefined);
    dialer.write('x');
    const started = Date.now();
    // Past the watch of a new link: a burst now is not seen by the pool's own looks.
    await new Promise((r) => setTimeout(r, 1200));
    link.checkIdle(Date.now());
    await send(dialer, 512 * 1024, link, '').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(link.isMoved).toBe(false);
    // The relay's sweep (Link.checkIdle) sees the burst: the pool watches it again, and the next burst moves it.
    link.checkIdle(Date.now());
    // Busy until it moves (the pool's first move also starts its worker).
    for (const until = Date.now() + 5000; !link.isMoved && Date.now() < until; ) await send(dialer, MiB, link, '');
    expect(link.isMoved).toBe(true);
    expect(Date.now() - started).toBeGreaterThan(1200);
  });

  it('waits for the receive delay of legacy peers before a link may move', async () => {
    const pair = await makePair(300);
    expect(pair.link.canMove).toBe(false);
    await waitFor(() => pair.link.canMove, 'both directions relay after the delay');
    await moveIt(pair);
  });
});

/** Resolves when the relay ends or resets the peer's connection (a FIN or a close, within 3 s). */
function gone(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the relay did not close the connection within 3 s')), 3000);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    if (socket.readableEnded || socket.closed) return done();
    socket.on('error', () => undefined);
    socket.once('end', done);
    socket.once('close', done);
    socket.resume();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
