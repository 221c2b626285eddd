/** Deadlines of the data plane: dialer timeout, link idle timeout, listeners that leave or die. */
import { randomBytes } from 'node:crypto';
import { buildRequest, connectTo, rawRequest, readBytes, readResponse, webRouteHeaders } from '../helpers/raw-http';
import { linkedSocket, makeLink, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { ended, waitFor } from '../helpers/wait-for';
import { RelayAdmin } from '../../src/relay/relay-admin';

describe('timeouts and departures', () => {
  let relay: StartedRelay;
  let admin: RelayAdmin;

  beforeEach(async () => {
    relay = await startRelay({ defaultTimeoutSeconds: 1, sweepIntervalMs: 50, listenerPingIntervalMs: 200 });
    admin = relay.app.get(RelayAdmin);
  });
  afterEach(() => relay.close());

  it('answers 504 with WebRoute-Version and Connection: close to a dialer not linked within the default timeout', async () => {
    const listener = await TestListener.open(relay.port, '/slow', relay.keys.server);
    const started = Date.now();
    // Its own, longer WebRoute-Timeout does not extend the wait.
    const dial = startDial(relay.port, '/slow', relay.keys.client, { headers: { 'WebRoute-Timeout': '30' } });
    expect((await listener.nextNotice()).timeout).toBe(30);
    const response = await dial.response;
    const waited = Date.now() - started;
    expect(response.status).toBe(504);
    expect(response.headers['webroute-version']).toBe('1');
    expect(response.headers.connection).toBe('close');
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(3000);
    expect(admin.counts().waitingDialers).toBe(0);
    await listener.close();
  });

  it('closes a link once no byte moved either way for the smaller effective timeout', async () => {
    const listener = await TestListener.open(relay.port, '/idle', relay.keys.server);
    const { dialer, listenerSide } = await makeLink(relay.port, '/idle', listener, relay.keys);
    const a = linkedSocket(dialer);
    const b = linkedSocket(listenerSide);
    // Traffic keeps it open past the timeout...
    let lastByteAt = 0;
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 250));
      a.write('x');
      await readBytes(b, 1);
      lastByteAt = Date.now();
    }
    expect(admin.links()).toHaveLength(1);
    // ...and silence closes it.
    await Promise.all([ended(a, 4000), ended(b, 4000)]);
    expect(Date.now() - lastByteAt).toBeGreaterThanOrEqual(950);
    await waitFor(() => admin.links().length === 0, 'idle link removed');
    await listener.close();
  });

  it('answers waiting dialers 502 missing_destination when their listener goes away, and frees the path', async () => {
    const listener = await TestListener.open(relay.port, '/gone', relay.keys.server);
    const dials = [startDial(relay.port, '/gone', relay.keys.client), startDial(relay.port, '/gone', relay.keys.client)];
    await listener.nextNotice();
    await listener.nextNotice();
    await listener.close();
    for (const dial of dials) {
      const response = await dial.response;
      expect(response.status).toBe(502);
      expect(JSON.parse(response.body).errorcode).toBe('missing_destination');
    }
    await waitFor(() => admin.routes({ path: '/gone' })[0] === undefined, 'route freed');
    const again = await TestListener.open(relay.port, '/gone', relay.keys.server);
    await again.close();
  });

  it('drops a listener that stops answering pings: its path is freed and its dialers get 502', async () => {
    // A listener that completes the handshake and then never reads again (a dead host).
    const socket = await connectTo(relay.port);
    const key = randomBytes(16).toString('base64');
    socket.write(
      buildRequest('/dead', 'GET', {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
        'X-Remoted-APIKey': relay.keys.server,
      }),
    );
    expect((await readResponse(socket)).status).toBe(101);
    expect(admin.routes({ path: '/dead' })[0]).toBeDefined();
    const dial = startDial(relay.port, '/dead', relay.keys.client);
    const response = await dial.response;
    expect(response.status).toBe(502);
    expect(admin.routes({ path: '/dead' })[0]).toBeUndefined();
    socket.destroy();
  });
});

describe('forced close of a listener', () => {
  it('frees the path at once, even when the listener never answers the closing handshake', async () => {
    const relay = await startRelay({ listenerPingIntervalMs: 60_000 });
    const admin = relay.app.get(RelayAdmin);
    const socket = await connectTo(relay.port);
    socket.write(
      buildRequest('/stuck', 'GET', {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'X-Remoted-APIKey': relay.keys.server,
      }),
    );
    expect((await readResponse(socket)).status).toBe(101);
    admin.closeRoute(admin.routes({ path: '/stuck' })[0]!.listenerId, { closeLinks: false });
    expect(admin.routes({ path: '/stuck' })[0]).toBeUndefined();
    const next = await TestListener.open(relay.port, '/stuck', relay.keys.server);
    // The silent one is cut after a short grace rather than ws's 30 s close timeout.
    await ended(socket, 3000);
    await next.close();
    socket.destroy();
    await relay.close();
  });
});

describe('key changes take effect on the next request', () => {
  let relay: StartedRelay;
  beforeEach(async () => {
    relay = await startRelay();
  });
  afterEach(() => relay.close());

  it('honours revocation and expiry without a restart', async () => {
    const listener = await TestListener.open(relay.port, '/k', relay.keys.server);
    const revocable = await relay.store.create({ role: 'client', label: 'to revoke' });
    const expiring = await relay.store.create({ role: 'client', expiresAt: new Date(Date.now() + 400) });
    for (const secret of [revocable.secret, expiring.secret]) {
      const { dialer, listenerSide } = await makeLink(relay.port, '/k', listener, { ...relay.keys, client: secret });
      expect(dialer.status).toBe(101);
      dialer.socket.destroy();
      listenerSide.socket.destroy();
    }
    await relay.store.revoke(revocable.key.id);
    await new Promise((r) => setTimeout(r, 450));
    for (const secret of [revocable.secret, expiring.secret]) {
      const refused = await rawRequest(relay.port, '/k', { headers: webRouteHeaders(secret) });
      expect(refused.status).toBe(403);
    }
    expect(listener.notices).toHaveLength(0);
    await listener.close();
  });
});
