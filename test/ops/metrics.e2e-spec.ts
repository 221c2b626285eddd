/** Metric values on the metrics port after a known sequence of links and refusals. */
import { rawRequest, readBytes, webRouteHeaders } from '../helpers/raw-http';
import { linkedSocket, makeLink, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { ended, waitFor } from '../helpers/wait-for';
import { RelayAdmin } from '../../src/relay/relay-admin';
import { getText, sample } from './ops-helpers';

describe('Prometheus metrics', () => {
  let relay: StartedRelay;
  let listener: TestListener;

  const scrape = async (): Promise<string> => {
    const res = await getText(relay.metricsPort!, '/metrics');
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    relay = await startRelay({ metrics: { port: 0 }, defaultTimeoutSeconds: 1 });
    listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
  });
  afterAll(async () => {
    await listener.close();
    await relay.close();
  });

  it('serves only /metrics on its own port', async () => {
    expect(relay.metricsPort).toEqual(expect.any(Number));
    expect(relay.metricsPort).not.toBe(relay.port);
    expect((await getText(relay.metricsPort!, '/other')).status).toBe(404);
  });

  it('counts links, bytes, refusals, auth failures and timeouts', async () => {
    // Two links: 5 bytes to the listener and 3 back on each.
    for (let i = 0; i < 2; i++) {
      const pair = await makeLink(relay.port, '/svc', listener, relay.keys);
      const dialer = linkedSocket(pair.dialer);
      const server = linkedSocket(pair.listenerSide);
      dialer.write('hello');
      expect((await readBytes(server, 5)).toString()).toBe('hello');
      server.end('abc');
      expect((await readBytes(dialer, 3)).toString()).toBe('abc');
      dialer.end();
      await Promise.all([ended(dialer), ended(server)]);
    }
    await waitFor(() => relay.app.get(RelayAdmin).counts().links === 0, 'links closed');

    // Refusals (before the live link: its idle timeout is the 1 s default): a bad key (403), no listener (502), a dial nobody answers (504).
    expect((await rawRequest(relay.port, '/svc', { headers: webRouteHeaders('bad-key') })).status).toBe(403);
    expect((await rawRequest(relay.port, '/nobody', { headers: webRouteHeaders(relay.keys.client) })).status).toBe(502);
    const unanswered = startDial(relay.port, '/svc', relay.keys.client);
    await listener.nextNotice();
    expect((await unanswered.response).status).toBe(504);

    // A live link: its bytes show before it closes.
    const live = await makeLink(relay.port, '/svc', listener, relay.keys);
    const liveDialer = linkedSocket(live.dialer);
    const liveServer = linkedSocket(live.listenerSide);
    liveDialer.write('1234567');
    await readBytes(liveServer, 7);

    const text = await scrape();
    expect(sample(text, 'remoted_listeners')).toBe(1);
    expect(sample(text, 'remoted_links')).toBe(1);
    expect(sample(text, 'remoted_waiting_dialers')).toBe(0);
    expect(sample(text, 'remoted_dials_total', { outcome: 'linked' })).toBe(3);
    expect(sample(text, 'remoted_dials_total', { outcome: 'timeout' })).toBe(1);
    expect(sample(text, 'remoted_links_closed_total', { reason: 'closed' })).toBe(2);
    expect(sample(text, 'remoted_link_bytes_total', { direction: 'to_listener' })).toBe(2 * 5 + 7);
    expect(sample(text, 'remoted_link_bytes_total', { direction: 'to_dialer' })).toBe(2 * 3);
    expect(sample(text, 'remoted_refusals_total', { status: '403', code: 'invalid_missing_apikey' })).toBe(1);
    expect(sample(text, 'remoted_refusals_total', { status: '502', code: 'missing_destination' })).toBe(1);
    expect(sample(text, 'remoted_refusals_total', { status: '504', code: 'timeout' })).toBe(1);
    expect(sample(text, 'remoted_auth_failures_total')).toBe(1);
    expect(sample(text, 'remoted_link_handshake_seconds_count')).toBe(3);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // No secret ever appears.
    for (const secret of Object.values(relay.keys)) expect(text).not.toContain(secret);

    liveDialer.destroy();
    liveServer.destroy();
    await waitFor(() => relay.app.get(RelayAdmin).counts().links === 0, 'live link closed');
    const after = await scrape();
    expect(sample(after, 'remoted_links')).toBe(0);
    expect(sample(after, 'remoted_link_bytes_total', { direction: 'to_listener' })).toBe(2 * 5 + 7);
  });
});


describe('Prometheus metrics of pools and spares', () => {
  it('shows the spares held and counts the slow dial-backs of a pool', async () => {
    const relay = await startRelay({ metrics: { port: 0 }, routes: { policy: 'pool', poolDialbackDeadlineMs: 100 } });
    const features = { headers: { 'X-Remoted-Features': 'spare' } };
    const spareHolder = await TestListener.openUrl(`ws://127.0.0.1:${relay.port}/pool`, relay.keys.server, features);
    const silent = await TestListener.open(relay.port, '/pool', relay.keys.server);
    try {
      const spareId = String(spareHolder.upgradeHeaders['x-remoted-listener-id']);
      const spare = rawRequest(relay.port, '/pool', { headers: webRouteHeaders(relay.keys.server, undefined, { 'X-Remoted-Spare': spareId }) });
      await waitFor(() => relay.app.get(RelayAdmin).counts().spares === 1, 'spare held');
      const held = await getText(relay.metricsPort!, '/metrics');
      expect(sample(held.body, 'remoted_spares')).toBe(1);
      expect(sample(held.body, 'remoted_listeners')).toBe(2);

      // The first dial takes the spare; the second goes to the member with no link, which never dials back.
      const first = startDial(relay.port, '/pool', relay.keys.client);
      expect((await first.response).status).toBe(101);
      expect((await spare).status).toBe(101);
      const second = startDial(relay.port, '/pool', relay.keys.client);
      const told = await silent.nextNotice();
      const retold = await spareHolder.nextNotice();
      expect(retold.id).toBe(told.id);
      const after = await getText(relay.metricsPort!, '/metrics');
      expect(sample(after.body, 'remoted_spares')).toBe(0);
      expect(sample(after.body, 'remoted_slow_dialbacks_total')).toBe(1);
      second.response.catch(() => undefined);
    } finally {
      await spareHolder.close();
      await silent.close();
      await relay.close();
    }
  });
});
