/** Failed-auth throttling per source address, and the caps that answer 503 over_capacity. */
import { rawRequest, webRouteHeaders } from '../helpers/raw-http';
import { makeLink, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { connectFrom, getText, requestOn, sample } from './ops-helpers';

describe('failed-auth throttling', () => {
  let relay: StartedRelay;

  beforeEach(async () => {
    relay = await startRelay({ limits: { authFailureLimit: 3, authFailureWindowMs: 60_000 }, metrics: { port: 0 } });
  });
  afterEach(() => relay.close());

  it('answers 429 with Retry-After after N bad keys, while another address still links at once', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await rawRequest(relay.port, '/svc', { headers: webRouteHeaders(`guess-${i}`) })).status).toBe(403);
    }
    const throttled = await rawRequest(relay.port, '/svc', { headers: webRouteHeaders('guess-3') });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(throttled.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(JSON.parse(throttled.body)).toEqual({ success: false, error: expect.any(String), errorcode: 'too_many_requests' });
    // The throttled address is refused even with a right key: nothing is learnt from it.
    expect((await rawRequest(relay.port, '/svc', { headers: webRouteHeaders(relay.keys.client) })).status).toBe(429);

    // 127.0.0.2 is another client: its listener, dial and dial-back all go through.
    const listener = await TestListener.openUrl(`ws://127.0.0.1:${relay.port}/svc`, relay.keys.server, { localAddress: '127.0.0.2' });
    const dialSocket = await connectFrom(relay.port, '127.0.0.2');
    const dialed = requestOn(dialSocket, '/svc', webRouteHeaders(relay.keys.client));
    const notice = await listener.nextNotice();
    expect(notice.ipaddr).toMatch(/^127\.0\.0\.2:\d+$/);
    const backSocket = await connectFrom(relay.port, '127.0.0.2');
    expect((await requestOn(backSocket, '/svc', webRouteHeaders(relay.keys.server, notice.id))).status).toBe(101);
    expect((await dialed).status).toBe(101);
    dialSocket.destroy();
    backSocket.destroy();
    await listener.close();

    const text = (await getText(relay.metricsPort!, '/metrics')).body;
    expect(sample(text, 'remoted_auth_failures_total')).toBe(3);
    expect(sample(text, 'remoted_refusals_total', { status: '429', code: 'too_many_requests' })).toBe(2);
  });
});

describe('capacity caps', () => {
  let relay: StartedRelay;

  beforeEach(async () => {
    relay = await startRelay({ limits: { maxRoutes: 1, maxLinksPerKey: 1, maxConnections: 6 }, metrics: { port: 0 } });
  });
  afterEach(() => relay.close());

  it('answers 503 over_capacity past the routes, links-per-key and connections limits', async () => {
    const listener = await TestListener.open(relay.port, '/a', relay.keys.server);
    await expect(TestListener.open(relay.port, '/b', relay.keys.server)).rejects.toMatchObject({ status: 503 });

    const pair = await makeLink(relay.port, '/a', listener, relay.keys);
    const second = await rawRequest(relay.port, '/a', { headers: webRouteHeaders(relay.keys.client) });
    expect(second.status).toBe(503);
    expect(JSON.parse(second.body)).toMatchObject({ errorcode: 'over_capacity' });
    // Another client key is not held to the first key's links.
    const other = (await relay.store.create({ role: 'client' })).secret;
    const waiting = startDial(relay.port, '/a', other);
    await listener.nextNotice();
    // Held now: the listener, two link sides, one waiting dialer; two more fill the limit of 6.
    const filler = [startDial(relay.port, '/a', other), startDial(relay.port, '/a', other)];
    await listener.nextNotice();
    await listener.nextNotice();
    const refused = await rawRequest(relay.port, '/a', { headers: webRouteHeaders(other) });
    expect(refused.status).toBe(503);

    const text = (await getText(relay.metricsPort!, '/metrics')).body;
    expect(sample(text, 'remoted_capacity_refusals_total', { limit: 'routes' })).toBe(1);
    expect(sample(text, 'remoted_capacity_refusals_total', { limit: 'links_per_key' })).toBe(1);
    expect(sample(text, 'remoted_capacity_refusals_total', { limit: 'connections' })).toBe(1);
    expect(sample(text, 'remoted_connections')).toBe(6);

    pair.dialer.socket.destroy();
    pair.listenerSide.socket.destroy();
    await listener.close();
    await Promise.all([waiting.response, ...filler.map((d) => d.response)]);
  });
});
