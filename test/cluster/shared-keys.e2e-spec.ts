/**
 * Cluster mode, keys (docs/cluster.md): two relay nodes on one real
 * redis-server share their keys. A key made through either node's control
 * plane works on the other at once; a revocation through one severs what the
 * key holds on the other within a second; a node that loses Redis keeps its
 * links, says so on /readyz, and is ready again when Redis is back.
 */
import { get } from 'node:http';
import type { AdminClient } from '@remoted/sdk/admin';
import { KeyRole } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { CLOSE_KEY_REVOKED, randomToken } from '@remoted/sdk/protocol';
import { adminClientFor } from '../control/control-helpers';
import { readBytes } from '../helpers/raw-http';
import { startRedis, type RunningRedis } from '../helpers/redis-server';
import { linkedSocket, makeLink, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { ended } from '../helpers/wait-for';

const CLUSTER_SECRET = randomToken();

interface Node {
  relay: StartedRelay;
  admin: AdminClient;
}

async function startNode(redis: RunningRedis, nodeId: string): Promise<Node> {
  const relay = await startRelay({ cluster: { redisUrl: redis.url, secret: CLUSTER_SECRET, nodeId } });
  return { relay, admin: adminClientFor(relay) };
}

function readyz(port: number): Promise<{ status: number; body: { status: string; checks: Record<string, boolean> } }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/readyz' }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { status: string; checks: Record<string, boolean> } }));
    }).once('error', reject);
  });
}

/** Asks /readyz until it answers `status`; fails after timeoutMs. */
async function readyzBecomes(port: number, status: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readyz(port)).status !== status) {
    if (Date.now() > deadline) throw new Error(`/readyz did not answer ${status} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function newKey(admin: AdminClient, role: 'server' | 'client'): Promise<{ name: string; secret: string }> {
  const made = await admin.keys.createKey({ role: role === 'server' ? KeyRole.SERVER : KeyRole.CLIENT, label: `cluster test ${role}` });
  return { name: made.key!.name, secret: made.secret };
}

describe('cluster mode: keys shared through Redis', () => {
  let redis: RunningRedis;
  let a: Node;
  let b: Node;
  const listeners: TestListener[] = [];

  beforeEach(async () => {
    redis = await startRedis();
    a = await startNode(redis, 'node-a');
    b = await startNode(redis, 'node-b');
  });

  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((listener) => listener.close()));
    for (const node of [a, b]) {
      node.admin.close();
      await node.relay.close();
    }
    await redis.stop();
  });

  it('links on node B with keys made through node A at once, and node A lists the keys node B made', async () => {
    const server = await newKey(a.admin, 'server');
    const client = await newKey(a.admin, 'client');
    const listener = await TestListener.open(b.relay.port, '/shared', server.secret);
    listeners.push(listener);
    const { dialer, listenerSide } = await makeLink(b.relay.port, '/shared', listener, { server: server.secret, client: client.secret });
    linkedSocket(dialer).write('over node b');
    expect((await readBytes(linkedSocket(listenerSide), 11)).toString()).toBe('over node b');

    const madeOnB = await newKey(b.admin, 'client');
    const listed = await a.admin.keys.listKeys({});
    expect(listed.keys.map((key) => key.name)).toEqual(expect.arrayContaining([server.name, client.name, madeOnB.name]));
  });

  it('a revocation through node B closes the listener (4001) and the links the key holds on node A within a second', async () => {
    const server = await newKey(b.admin, 'server');
    const client = await newKey(b.admin, 'client');
    const listener = await TestListener.open(a.relay.port, '/severed', server.secret);
    listeners.push(listener);
    const other = await TestListener.open(a.relay.port, '/kept', a.relay.keys.server);
    listeners.push(other);
    const severed = await makeLink(a.relay.port, '/kept', other, { server: a.relay.keys.server, client: client.secret });
    const kept = await makeLink(a.relay.port, '/kept', other, { server: a.relay.keys.server, client: a.relay.keys.client });

    const started = Date.now();
    await b.admin.keys.revokeKey({ name: server.name });
    await b.admin.keys.revokeKey({ name: client.name });
    expect(await listener.closed(1000)).toBe(CLOSE_KEY_REVOKED);
    await Promise.all([ended(linkedSocket(severed.dialer), 1000), ended(linkedSocket(severed.listenerSide), 1000)]);
    expect(Date.now() - started).toBeLessThan(1000);

    // Nothing else was touched: the other link still carries bytes, and the revoked key is refused on node A.
    linkedSocket(kept.dialer).write('still here');
    expect((await readBytes(linkedSocket(kept.listenerSide), 10)).toString()).toBe('still here');
    await expect(TestListener.open(a.relay.port, '/severed', server.secret)).rejects.toMatchObject({ status: 403 });
  });

  it('a node cut off from Redis keeps its links and reports not ready; it is ready again, and hears changes, once Redis is back', async () => {
    const listener = await TestListener.open(a.relay.port, '/paused', a.relay.keys.server);
    listeners.push(listener);
    const { dialer, listenerSide } = await makeLink(a.relay.port, '/paused', listener, { server: a.relay.keys.server, client: a.relay.keys.client });
    expect(await readyz(a.relay.port)).toMatchObject({ status: 200, body: { checks: { keyStore: true } } });

    // Made through node B and never looked up on node A: not in A's cache.
    const uncached = await newKey(b.admin, 'server');
    redis.pause();
    try {
      const asked = Date.now();
      await expect(TestListener.open(a.relay.port, '/uncached', uncached.secret)).rejects.toMatchObject({
        status: 503,
        body: expect.stringContaining('"errorcode":"over_capacity"'),
      });
      expect(Date.now() - asked).toBeLessThan(3000);
      await readyzBecomes(a.relay.port, 503, 10_000);
      expect((await readyz(a.relay.port)).body).toMatchObject({ status: 'not_ready', checks: { keyStore: false, listening: true } });
      linkedSocket(dialer).write('no redis needed');
      expect((await readBytes(linkedSocket(listenerSide), 15)).toString()).toBe('no redis needed');
    } finally {
      redis.resume();
    }
    await readyzBecomes(a.relay.port, 200, 10_000);

    const server = await newKey(b.admin, 'server');
    const late = await TestListener.open(a.relay.port, '/late', server.secret);
    listeners.push(late);
    await b.admin.keys.revokeKey({ name: server.name });
    expect(await late.closed(1000)).toBe(CLOSE_KEY_REVOKED);
  });
});
