/**
 * Cluster mode as it is deployed (docs/cluster.md): three relay processes
 * (`node dist/main.js`) on one real redis-server, HAProxy round-robin (TCP
 * mode) in front. The SDK's listener and dialers, and the original protocol
 * spoken by hand, reach any node; links are made whichever nodes their
 * three connections land on; a node killed or hung loses its paths within
 * the lease and the SDK listener is back through another node by itself;
 * Redis restarted or paused leaves established links alone.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { dial } from '@remoted/sdk';
import { randomToken } from '@remoted/sdk/protocol';
import { ChildSet, type FaultChild, freePort, SDK_LISTENER, startRelayProcess } from '../faults/helpers/children';
import { startHaproxy, type RunningHaproxy } from '../helpers/haproxy';
import { readBytes } from '../helpers/raw-http';
import { startRedis, type RunningRedis } from '../helpers/redis-server';
import { dialBack, linkedSocket, startDial, TestListener } from '../helpers/relay-peers';
import { hashOf, sha256 } from '../helpers/hash-stream';

const LEASE_MS = 3000;
const KEYS = { server: randomToken(), client: randomToken() };
const SECRET = randomToken();

interface Node {
  id: string;
  port: number;
  child: FaultChild;
}



/** One echo round trip through the balancer with the SDK's dial(). */
async function echoOnce(port: number, path: string, bytes: Buffer): Promise<void> {
  const socket = await dial(`rwr://${KEYS.client}@127.0.0.1:${port}${path}`, { timeoutMs: 10_000 });
  try {
    socket.write(bytes);
    const back = await readBytes(socket, bytes.length, Buffer.alloc(0), 10_000);
    if (!back.equals(bytes)) throw new Error('echo differs');
  } finally {
    socket.destroy();
  }
}

/** Dials until one echo works, then `more` in a row must work too; fails after timeoutMs. */
async function dialsWorkAgain(port: number, path: string, timeoutMs: number, more = 20): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await echoOnce(port, path, randomBytes(64));
      break;
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw new Error(`no dial worked within ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const firstOkMs = Date.now() - started;
  for (let i = 0; i < more; i++) await echoOnce(port, path, randomBytes(64));
  return firstOkMs;
}

describe('cluster mode behind HAProxy: three relay processes, one Redis', () => {
  const children = new ChildSet();
  let redis: RunningRedis;
  let haproxy: RunningHaproxy;
  let watch: Redis;
  let nodes: Node[];
  let listener: FaultChild;
  const dirs: string[] = [];

  async function startNode(id: string): Promise<Node> {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), `remoted-${id}-`));
    dirs.push(dataDir);
    const child = await startRelayProcess(children, {
      port,
      dataDir,
      keys: KEYS,
      extraArgs: ['--redis-url', redis.url, '--cluster-secret', SECRET, '--node-id', id, '--route-lease-ms', String(LEASE_MS)],
    });
    return { id, port, child };
  }

  /** The nodes holding an active lease on the path, as Redis has them. */
  async function holdersOf(path: string): Promise<string[]> {
    const leases = await watch.hgetall(`remoted:route:${path}`);
    const now = Number((await watch.time())[0]) * 1000;
    return Object.values(leases)
      .map((value) => value.split('|'))
      .filter(([expires, state]) => Number(expires) > now && state === 'a')
      .map((parts) => parts[2]);
  }

  beforeAll(async () => {
    redis = await startRedis();
    watch = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await watch.connect();
    nodes = [];
    for (const id of ['node-1', 'node-2', 'node-3']) nodes.push(await startNode(id));
    haproxy = await startHaproxy(nodes.map((node) => node.port));
    listener = children.spawnNode(SDK_LISTENER, [], {
      LISTEN_URL: `rws://${KEYS.server}@127.0.0.1:${haproxy.port}/echo`,
      RECONNECT_INITIAL_MS: '100',
      RECONNECT_MAX_MS: '500',
      PING_INTERVAL_MS: '1000',
    });
    await listener.nextEvent('listening', 15_000);
  }, 60_000);

  afterAll(async () => {
    await children.killAll();
    await haproxy?.stop();
    watch?.disconnect();
    await redis?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('makes 200 SDK links at once through the balancer, each echoed intact', async () => {
    const payloads = Array.from({ length: 200 }, () => randomBytes(16 * 1024));
    await Promise.all(payloads.map((bytes) => echoOnce(haproxy.port, '/echo', bytes)));
  }, 60_000);

  it('carries 64 MiB each way over one SDK link through the balancer (SHA-256)', async () => {
    const socket = await dial(`rwr://${KEYS.client}@127.0.0.1:${haproxy.port}/echo`, { timeoutMs: 10_000 });
    try {
      const bytes = randomBytes(64 * 1024 * 1024);
      const back = hashOf(socket, bytes.length);
      socket.write(bytes);
      expect(await back).toBe(sha256(bytes));
    } finally {
      socket.destroy();
    }
  }, 90_000);

  it('links the original protocol spoken by hand: listener, dial and dial-back each through the balancer', async () => {
    const raw = await TestListener.open(haproxy.port, '/by-hand', KEYS.server);
    try {
      for (let i = 0; i < 6; i++) {
        const dialing = startDial(haproxy.port, '/by-hand', KEYS.client, { extra: `hello ${i}` });
        const notice = await raw.nextNotice();
        const listenerSide = await dialBack(haproxy.port, '/by-hand', KEYS.server, notice.id);
        const dialer = await dialing.response;
        expect([dialer.status, listenerSide.status]).toEqual([101, 101]);
        expect((await readBytes(linkedSocket(listenerSide), 7)).toString()).toBe(`hello ${i}`);
        linkedSocket(listenerSide).write(`back ${i}`);
        expect((await readBytes(linkedSocket(dialer), 6)).toString()).toBe(`back ${i}`);
        dialer.socket.destroy();
        listenerSide.socket.destroy();
      }
    } finally {
      await raw.close();
    }
  }, 60_000);

  it('keeps established links through a Redis restart and a Redis pause; new links work once Redis is back', async () => {
    const socket = await dial(`rwr://${KEYS.client}@127.0.0.1:${haproxy.port}/echo`, { timeoutMs: 10_000 });
    try {
      await redis.restart();
      socket.write('after restart');
      expect((await readBytes(socket, 13, Buffer.alloc(0), 5000)).toString()).toBe('after restart');
      await dialsWorkAgain(haproxy.port, '/echo', 15_000, 5);

      redis.pause();
      try {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        socket.write('during pause');
        expect((await readBytes(socket, 12, Buffer.alloc(0), 5000)).toString()).toBe('during pause');
      } finally {
        redis.resume();
      }
      await dialsWorkAgain(haproxy.port, '/echo', 20_000, 5);
      expect(await holdersOf('/echo')).toHaveLength(1);
    } finally {
      socket.destroy();
    }
  }, 90_000);

  it('a hung node (SIGSTOP): its path is free within the lease, the listener is back elsewhere, and the node gives the path up when it wakes', async () => {
    const [holder] = await holdersOf('/echo');
    const hung = nodes.find((node) => node.id === holder)!;
    const seen = listener.events.length;
    hung.child.process.kill('SIGSTOP');
    try {
      const stoppedAt = Date.now();
      await listener.nextEvent('route:lost', 10_000, seen);
      await dialsWorkAgain(haproxy.port, '/echo', LEASE_MS + 10_000);
      const holders = await holdersOf('/echo');
      expect(holders).toHaveLength(1);
      expect(holders[0]).not.toBe(hung.id);
      // The listener came back no later than a lease after the node stopped, plus the SDK's ping and backoff.
      expect(Date.now() - stoppedAt).toBeLessThan(LEASE_MS + 10_000);
    } finally {
      hung.child.process.kill('SIGCONT');
    }
    // Awake, the node finds its lease gone and lets its stale listener go: never two holders.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    expect(await holdersOf('/echo')).toHaveLength(1);
    await dialsWorkAgain(haproxy.port, '/echo', 10_000, 5);
  }, 90_000);

  it('a killed node (SIGKILL): its path is free within the lease and dials work again with no operator action', async () => {
    const [holder] = await holdersOf('/echo');
    const killed = nodes.find((node) => node.id === holder)!;
    const seen = listener.events.length;
    await killed.child.kill('SIGKILL');
    await listener.nextEvent('route:lost', 10_000, seen);
    await dialsWorkAgain(haproxy.port, '/echo', LEASE_MS + 10_000);
    const holders = await holdersOf('/echo');
    expect(holders).toHaveLength(1);
    expect(holders[0]).not.toBe(killed.id);
  }, 90_000);
});
