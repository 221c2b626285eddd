/**
 * Cluster mode, routes and links across nodes (docs/cluster.md): three relay
 * nodes on one real redis-server. A listener on one node, its dialer on
 * another and its dial-back on a third still make one link, over one
 * node-to-node hop; the route policies hold across the nodes; a node that
 * goes away frees its paths within the lease.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { CLOSE_REPLACED, randomToken } from '@remoted/sdk/protocol';
import { adminClientFor } from '../control/control-helpers';
import { buildRequest, connectTo, type RawResponse, readBytes, readResponse, webRouteHeaders } from '../helpers/raw-http';
import { startRedis, type RunningRedis } from '../helpers/redis-server';
import { dialBack, linkedSocket, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { ended, waitFor } from '../helpers/wait-for';
import { RelayAdmin } from '../../src/relay/relay-admin';
import { RelayTally } from '../../src/relay/relay-tally';
import { hashOf, sha256 } from '../helpers/hash-stream';

const CLUSTER_SECRET = randomToken();
const LEASE_MS = 1500;



describe('cluster mode: routes and links across nodes', () => {
  let redis: RunningRedis;
  let nodes: StartedRelay[];
  const listeners: TestListener[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    nodes = [];
    for (const nodeId of ['node-1', 'node-2', 'node-3']) {
      nodes.push(await startRelay({ cluster: { redisUrl: redis.url, secret: CLUSTER_SECRET, nodeId, leaseMs: LEASE_MS } }));
    }
  });
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((listener) => listener.close()));
  });
  afterAll(async () => {
    for (const node of nodes) await node.close();
    await redis.stop();
  });

  async function listenOn(node: StartedRelay, path: string, key = node.keys.server): Promise<TestListener> {
    const listener = await TestListener.open(node.port, path, key);
    listeners.push(listener);
    return listener;
  }

  it('links a dialer on node 2 to a listener on node 1 whose dial-back lands on node 3: 64 MiB each way intact (SHA-256)', async () => {
    const [one, two, three] = nodes;
    const listener = await listenOn(one, '/far');
    const dial = startDial(two.port, '/far', two.keys.client, { extra: 'early from the dialer' });
    const notice = await listener.nextNotice();
    expect(notice.id).toBe(dial.id);
    const listenerSide = await dialBack(three.port, '/far', one.keys.server, notice.id, { extra: 'early from the listener' });
    const dialer = await dial.response;
    expect(dialer.status).toBe(101);
    expect(listenerSide.status).toBe(101);
    const dialerSocket = linkedSocket(dialer);
    const listenerSocket = linkedSocket(listenerSide);
    expect((await readBytes(listenerSocket, 21)).toString()).toBe('early from the dialer');
    expect((await readBytes(dialerSocket, 23)).toString()).toBe('early from the listener');

    const toListener = randomBytes(64 * 1024 * 1024);
    const toDialer = randomBytes(64 * 1024 * 1024);
    const [atListener, atDialer] = [hashOf(listenerSocket, toListener.length), hashOf(dialerSocket, toDialer.length)];
    dialerSocket.write(toListener);
    listenerSocket.write(toDialer);
    expect(await atListener).toBe(sha256(toListener));
    expect(await atDialer).toBe(sha256(toDialer));

    // A FIN crosses the hop as a FIN.
    dialerSocket.end();
    await ended(listenerSocket, 5000);
    listenerSocket.end();
    await ended(dialerSocket, 5000);
  });

  it('links for every choice of the dialer\'s node and the dial-back\'s node, the listener on node 1', async () => {
    const listener = await listenOn(nodes[0], '/any');
    for (const [d, dialerNode] of nodes.entries()) {
      for (const [b, dialBackNode] of nodes.entries()) {
        const dial = startDial(dialerNode.port, '/any', dialerNode.keys.client);
        const notice = await listener.nextNotice(2000);
        const listenerSide = await dialBack(dialBackNode.port, '/any', nodes[0].keys.server, notice.id);
        const dialer = await dial.response;
        expect({ d, b, statuses: [dialer.status, listenerSide.status] }).toEqual({ d, b, statuses: [101, 101] });
        linkedSocket(dialer).write(`${d}${b}`);
        expect((await readBytes(linkedSocket(listenerSide), 2)).toString()).toBe(`${d}${b}`);
        dialer.socket.destroy();
        listenerSide.socket.destroy();
      }
    }
  });

  it('links without a hop when the dial-back lands on the dialer\'s node', async () => {
    const [one, two] = nodes;
    const listener = await listenOn(one, '/near');
    const dial = startDial(two.port, '/near', two.keys.client);
    const notice = await listener.nextNotice();
    const listenerSide = await dialBack(two.port, '/near', one.keys.server, notice.id);
    const dialer = await dial.response;
    linkedSocket(dialer).write('no hop');
    expect((await readBytes(linkedSocket(listenerSide), 6)).toString()).toBe('no hop');
  });

  it('holds the exclusive policy across nodes, and a takeover on one node closes the listener on another (4000)', async () => {
    const [one, two] = nodes;
    await listenOn(one, '/only');
    await expect(TestListener.open(two.port, '/only', one.keys.server)).rejects.toMatchObject({ status: 409 });

    const takeover = await one.store.create({ role: 'server', routePolicy: 'takeover' });
    const first = await listenOn(one, '/moved', takeover.secret);
    await listenOn(two, '/moved', takeover.secret);
    expect(await first.closed(2000)).toBe(CLOSE_REPLACED);
  });

  it('takes a spare held on the dial\'s own node for a listener on another: linked at once, no notify, no hop; revoking the key answers the spare there', async () => {
    const [one, two, three] = nodes;
    const server = await one.store.create({ role: 'server' });
    const listener = await TestListener.openUrl(`ws://127.0.0.1:${one.port}/warm`, server.secret, { headers: { 'X-Remoted-Features': 'spare' } });
    listeners.push(listener);
    const listenerId = String(listener.upgradeHeaders['x-remoted-listener-id']);
    /** A spare request; its answer comes only when a dial takes it or it is ended. */
    const openSpare = async (node: StartedRelay): Promise<{ answer: Promise<RawResponse> }> => {
      const socket = await connectTo(node.port);
      socket.write(buildRequest('/warm', 'GET', webRouteHeaders(server.secret, randomToken(), { 'X-Remoted-Spare': listenerId, 'X-Remoted-Features': 'early-data' })));
      return { answer: readResponse(socket, 10_000) };
    };
    const spareOnTwo = (await openSpare(two)).answer;
    await waitFor(() => two.app.get(RelayAdmin).counts().spares === 1, 'spare held on node 2');

    const dial = startDial(two.port, '/warm', two.keys.client, { extra: 'warm' });
    const [dialer, spareSide] = await Promise.all([dial.response, spareOnTwo]);
    expect([dialer.status, spareSide.status]).toEqual([101, 101]);
    expect((await readBytes(linkedSocket(spareSide), 4)).toString()).toBe('warm');
    expect(listener.rawNotices).toHaveLength(0);
    const vias = two.app.get(RelayTally).linksByVia;
    expect(vias.get('spare')).toBeGreaterThanOrEqual(1);

    // A spare for a listener another node holds is answered when its key is revoked, through any node.
    const spareOnThree = (await openSpare(three)).answer;
    await waitFor(() => three.app.get(RelayAdmin).counts().spares === 1, 'spare held on node 3');
    await one.store.revoke(server.key.id);
    expect((await spareOnThree).status).toBe(502);
    expect(await (await openSpare(three)).answer).toMatchObject({ status: 403 });
  });

  it('lists the listeners and links of every node from any node\'s control plane, naming a node that does not answer', async () => {
    const [one, two, three] = nodes;
    const listener = await listenOn(one, '/listed');
    const dial = startDial(two.port, '/listed', two.keys.client);
    const notice = await listener.nextNotice();
    const listenerSide = await dialBack(one.port, '/listed', one.keys.server, notice.id);
    await dial.response;
    const admin = adminClientFor(three);
    try {
      const routes = await admin.routes.listRoutes({ path: '/listed' });
      expect(routes.routes.map((route) => route.node)).toEqual(['node-1']);
      expect(routes.unansweredNodes).toEqual([]);
      const links = await admin.links.listLinks({ path: '/listed' });
      // The dialer's node holds the dialer's side and the hop; the listener's node the other half.
      expect(links.links.map((link) => link.node).sort()).toEqual(['node-1', 'node-2']);
      expect(links.links.every((link) => link.openTime !== undefined && link.path === '/listed')).toBe(true);

      // A node that is in the cluster by its heartbeat but answers nothing (hung) is named, and the reply still comes.
      const redisClient = new Redis(redis.url);
      try {
        await redisClient.zadd('remoted:nodes', Date.now() + 60_000, 'node-silent');
        const started = Date.now();
        const partial = await admin.links.listLinks({ path: '/listed' });
        expect(partial.unansweredNodes).toEqual(['node-silent']);
        expect(partial.links).toHaveLength(2);
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        await redisClient.zrem('remoted:nodes', 'node-silent');
        redisClient.disconnect();
      }
    } finally {
      admin.close();
      listenerSide.socket.destroy();
    }
  });

  it('answers a dial for a path no node listens on with 502, and a forged hop with 403', async () => {
    const [, two, three] = nodes;
    const dial = startDial(two.port, '/nobody', two.keys.client);
    expect((await dial.response).status).toBe(502);
    const forged = startDial(three.port, '/nobody', '', { headers: { 'X-Remoted-Hop': `node-2 ${Date.now()} key_x ${'A'.repeat(43)}` } });
    expect((await forged.response).status).toBe(403);
  });

  it('frees the paths of a node that shuts down at once, for a listener on another node', async () => {
    const extra = await startRelay({ cluster: { redisUrl: redis.url, secret: CLUSTER_SECRET, nodeId: 'node-leaving', leaseMs: LEASE_MS } });
    await TestListener.open(extra.port, '/handed-over', extra.keys.server);
    const [one] = nodes;
    await expect(TestListener.open(one.port, '/handed-over', extra.keys.server)).rejects.toMatchObject({ status: 409 });
    await extra.close();
    await listenOn(one, '/handed-over', extra.keys.server);
  });
});
