import { randomBytes } from 'node:crypto';
import { durationMs } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import type { AdminClient } from '@remoted/sdk/admin';
import { readBytes } from '../helpers/raw-http';
import { linkedSocket, makeLink, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { ended, waitFor } from '../helpers/wait-for';
import { adminClientFor, expectStatus, idOf } from './control-helpers';
import { RelayAdmin } from '../../src/relay/relay-admin';

describe('control plane: routes, links, forced disconnects', () => {
  let relay: StartedRelay;
  let admin: AdminClient;
  let listener: TestListener;

  beforeEach(async () => {
    relay = await startRelay();
    admin = adminClientFor(relay);
    listener = await TestListener.open(relay.port, '/db/primary', relay.keys.server);
  });
  afterEach(async () => {
    admin.close();
    await listener.close();
    await relay.close();
  });

  /** A link that has carried `up` bytes to the listener and `down` bytes back. */
  async function linkWithTraffic(up: number, down: number) {
    const pair = await makeLink(relay.port, '/db/primary', listener, relay.keys);
    const dialer = linkedSocket(pair.dialer);
    const server = linkedSocket(pair.listenerSide);
    dialer.write(randomBytes(up));
    await readBytes(server, up);
    server.write(randomBytes(down));
    await readBytes(dialer, down);
    return { dialer, server };
  }

  it('lists the route and its links with byte counts after a known transfer', async () => {
    const first = await linkWithTraffic(1000, 250_000);
    await linkWithTraffic(24, 76);
    const waiting = startDial(relay.port, '/db/primary', relay.keys.client);
    await listener.nextNotice();

    const [route] = (await admin.routes.listRoutes({})).routes;
    expect(route).toMatchObject({
      path: '/db/primary',
      waitingDialers: 1,
      activeLinks: 2,
      bytesToListener: 1024n,
      bytesToDialers: 250_076n,
      listenerAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    expect(route.name).toMatch(/^routes\/lsn_/);
    expect(route.key).toMatch(/^keys\/key_/);
    expect((await admin.routes.getRoute({ path: '/db/primary' })).route).toEqual(route);
    expect((await admin.routes.getRoute({ name: route.name })).route?.path).toBe('/db/primary');

    const links = (await admin.links.listLinks({ route: route.name })).links;
    expect(links).toHaveLength(2);
    const big = links.find((l) => l.bytesToDialer === 250_000n)!;
    expect(big).toMatchObject({ route: route.name, path: '/db/primary', bytesToListener: 1000n, listenerKey: route.key });
    expect(big.dialerAddress).toBe(`127.0.0.1:${first.dialer.localPort}`);
    expect(durationMs(big.idleTimeout!)).toBe(60_000);
    expect(durationMs(big.idleDuration!)).toBeGreaterThanOrEqual(0);
    expect((await admin.links.getLink({ name: big.name })).link?.bytesToListener).toBe(1000n);
    expect((await admin.links.listLinks({ key: big.dialerKey })).links).toHaveLength(2);
    expect((await admin.links.listLinks({ path: '/elsewhere' })).links).toHaveLength(0);
    expect((await admin.links.listLinks({ pageSize: 1 })).nextPageToken).not.toBe('');

    const stats = await admin.stats.getStats({});
    expect(stats).toMatchObject({ routes: 1, links: 2, waitingDialers: 1, linksOpened: 2n, bytesToListeners: 1024n, bytesToDialers: 250_076n });
    // The listener going away answers the waiting dialer (502).
    await listener.close();
    expect((await waiting.response).status).toBe(502);
  });

  it('closes one link and leaves the others', async () => {
    const one = await linkWithTraffic(10, 10);
    const two = await linkWithTraffic(10, 10);
    const links = (await admin.links.listLinks({})).links;
    const target = links.find((l) => l.dialerAddress === `127.0.0.1:${one.dialer.localPort}`)!;
    const closedLink = await admin.links.closeLink({ name: target.name });
    expect(closedLink.link?.name).toBe(target.name);
    await Promise.all([ended(one.dialer, 1000), ended(one.server, 1000)]);
    expect((await admin.links.listLinks({})).links.map((l) => l.name)).not.toContain(target.name);
    two.dialer.write('still');
    expect((await readBytes(two.server, 5)).toString()).toBe('still');
    expect(await expectStatus(admin.links.getLink({ name: target.name }), status.NOT_FOUND)).toContain(target.name);
  });

  it('closes a route: its listener, and with close_links its links', async () => {
    const link = await linkWithTraffic(5, 5);
    const listenerClosed = new Promise<number>((resolve) => listener.ws.once('close', (code) => resolve(code)));
    const result = await admin.routes.closeRoute({ path: '/db/primary', closeLinks: true });
    expect(result).toMatchObject({ closedLinks: 1, route: { path: '/db/primary', activeLinks: 1 } });
    expect(await listenerClosed).toBe(1008);
    await Promise.all([ended(link.dialer, 1000), ended(link.server, 1000)]);
    expect((await admin.routes.listRoutes({})).routes).toHaveLength(0);
    expect(await expectStatus(admin.routes.getRoute({ name: idOf(result.route!.name) }), status.NOT_FOUND)).toMatch(/^routes\/lsn_.* not found/);
    expect(await expectStatus(admin.routes.closeRoute({}), status.INVALID_ARGUMENT)).toMatch(/^name: set exactly one/);
  });

  it('closes a route but leaves its links running without close_links', async () => {
    const link = await linkWithTraffic(5, 5);
    const result = await admin.routes.closeRoute({ name: (await admin.routes.listRoutes({})).routes[0].name });
    expect(result.closedLinks).toBe(0);
    link.dialer.write('alive');
    expect((await readBytes(link.server, 5)).toString()).toBe('alive');
  });

  it('closes everything a key opened', async () => {
    const link = await linkWithTraffic(5, 5);
    const { routes } = await admin.routes.listRoutes({});
    const listenerClosed = new Promise<number>((resolve) => listener.ws.once('close', (code) => resolve(code)));
    const result = await admin.keys.closeKeyConnections({ name: routes[0].key });
    expect(result).toMatchObject({ closedRoutes: 1, closedLinks: 1 });
    await Promise.all([ended(link.dialer, 1000), ended(link.server, 1000), listenerClosed]);
    // The relay frees the path once the WebSocket closing handshake is done.
    await waitFor(() => relay.app.get(RelayAdmin).routes({ path: '/db/primary' }).length === 0, 'route released');
    expect((await admin.routes.listRoutes({})).routes).toHaveLength(0);
  });
});
