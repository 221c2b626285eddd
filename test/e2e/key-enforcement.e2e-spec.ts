/**
 * What a key holds follows the key (docs/protocol.md, "What a key holds"): a
 * revoked, expired or out-of-scope key gets nothing new (no notify, no spare
 * linked, no waiting dial linked) and what it holds is closed within a second,
 * with the close codes and answers the protocol names.
 */
import type { AdminClient } from '@remoted/sdk/admin';
import { KeyRole } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { listen, RemotedError, type RouteRetryEvent } from '@remoted/sdk';
import { CLOSE_KEY_EXPIRED, CLOSE_KEY_OUT_OF_SCOPE, CLOSE_KEY_REVOKED, randomToken } from '@remoted/sdk/protocol';
import { FieldMaskSchema } from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';
import { buildRequest, connectTo, rawRequest, readBytes, readResponse, webRouteHeaders } from '../helpers/raw-http';
import { dialBack, linkedSocket, makeLink, startDial, TestListener } from '../helpers/relay-peers';
import type { StartedRelay } from '../helpers/start-relay';
import { AdminRelayFixture } from '../helpers/admin-relay-fixture';
import { ended, waitFor } from '../helpers/wait-for';
import { nextEvent } from '../sdk/sdk-helpers';
import type { Config } from '../../src/config/config';
import type { DeepPartial } from '../../src/config/load-config';
import { RelayService } from '../../src/relay/relay.service';

const SPARE_FEATURES = { headers: { 'X-Remoted-Features': 'spare, drain' } };

describe('what a key holds follows the key', () => {
  const fixture = new AdminRelayFixture();
  let relay: StartedRelay;
  let admin: AdminClient;
  async function start(overrides: DeepPartial<Config> = {}): Promise<void> {
    await fixture.start(overrides);
    ({ relay, admin } = fixture);
  }
  const openListener = (path: string, key: string, options = {}): Promise<TestListener> => fixture.openListener(path, key, options);
  async function newKey(role: 'server' | 'client', scopes: string[] = []): Promise<{ name: string; id: string; secret: string }> {
    const made = await admin.keys.createKey({ role: role === 'server' ? KeyRole.SERVER : KeyRole.CLIENT, scopes });
    return { name: made.key!.name, id: made.key!.name.replace('keys/', ''), secret: made.secret };
  }
  afterEach(() => fixture.close());

  it('revoking a server key closes its listener (4001), its spares and its links at once; a new dial is told to nobody', async () => {
    await start();
    const server = await newKey('server');
    const listener = await openListener('/rv', server.secret, SPARE_FEATURES);
    const { dialer, listenerSide } = await makeLink(relay.port, '/rv', listener, { server: server.secret, client: relay.keys.client });
    const listenerId = String(listener.upgradeHeaders['x-remoted-listener-id']);
    const spareSocket = await connectTo(relay.port);
    spareSocket.write(buildRequest('/rv', 'GET', webRouteHeaders(server.secret, randomToken(), { 'X-Remoted-Spare': listenerId })));
    const spareAnswer = readResponse(spareSocket);
    await waitFor(() => relay.app.get(RelayService).spareCount === 1, 'spare held');

    const revoked = await admin.keys.revokeKey({ name: server.name });
    expect(revoked).toMatchObject({ closedRoutes: 1, closedLinks: 1 });
    expect(await listener.closed(1000)).toBe(CLOSE_KEY_REVOKED);
    expect(listener.closeReason).toBe('the key of this listener was revoked');
    expect((await spareAnswer).status).toBe(502);
    await Promise.all([ended(linkedSocket(dialer), 1000), ended(linkedSocket(listenerSide), 1000)]);

    const late = await rawRequest(relay.port, '/rv', { headers: webRouteHeaders(relay.keys.client) });
    expect(late.status).toBe(502);
    expect(listener.rawNotices).toHaveLength(1);
  });

  it('keep_links: the revoked client key keeps its link but its waiting dial is answered 403 and never linked', async () => {
    await start();
    const client = await newKey('client');
    const listener = await openListener('/keep', relay.keys.server);
    const { dialer, listenerSide } = await makeLink(relay.port, '/keep', listener, { server: relay.keys.server, client: client.secret });
    const waiting = startDial(relay.port, '/keep', client.secret);
    const notice = await listener.nextNotice();

    const revoked = await admin.keys.revokeKey({ name: client.name, keepLinks: true });
    expect(revoked).toMatchObject({ closedRoutes: 0, closedLinks: 0 });
    const refused = await waiting.response;
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ success: false, errorcode: 'invalid_missing_apikey' });
    // The listener dials back for the dial it was told of: there is nobody to link any more.
    expect((await dialBack(relay.port, '/keep', relay.keys.server, notice.id)).status).toBe(400);

    const a = linkedSocket(dialer);
    const b = linkedSocket(listenerSide);
    a.write('still');
    expect((await readBytes(b, 5)).toString()).toBe('still');

    // Revoking again without keep_links closes what was kept.
    expect(await admin.keys.revokeKey({ name: client.name })).toMatchObject({ closedLinks: 1 });
    await ended(a, 1000);
  });

  it('an expired client key loses its link within a second of its expiry; an expired server key its listener (4002)', async () => {
    await start();
    const expiresAt = new Date(Date.now() + 700);
    const client = await relay.store.create({ role: 'client', expiresAt });
    const server = await relay.store.create({ role: 'server', expiresAt });
    const listener = await openListener('/exp', server.secret);
    const other = await openListener('/stay', relay.keys.server);
    const { dialer } = await makeLink(relay.port, '/stay', other, { server: relay.keys.server, client: client.secret });
    const socket = linkedSocket(dialer);
    await ended(socket, 2500);
    expect(Date.now() - expiresAt.getTime()).toBeLessThan(1000);
    expect(await listener.closed(1000)).toBe(CLOSE_KEY_EXPIRED);
    expect(other.ws.readyState).toBe(other.ws.OPEN);
  });

  it('between sweeps, an expired listener key is checked when a dial picks it: no notify, 502, listener closed', async () => {
    // No sweep within the test: only the check at the decision can see the expiry.
    await start({ sweepIntervalMs: 60_000 });
    const server = await relay.store.create({ role: 'server', expiresAt: new Date(Date.now() + 300) });
    const listener = await openListener('/late', server.secret);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const dial = await rawRequest(relay.port, '/late', { headers: webRouteHeaders(relay.keys.client) });
    expect(dial.status).toBe(502);
    expect(await listener.closed(1000)).toBe(CLOSE_KEY_EXPIRED);
    expect(listener.notices).toHaveLength(0);
  });

  it('between sweeps, a dial whose client key expired while it waited is answered 403 when the listener dials back', async () => {
    await start({ sweepIntervalMs: 60_000 });
    const client = await relay.store.create({ role: 'client', expiresAt: new Date(Date.now() + 300) });
    const listener = await openListener('/wait', relay.keys.server);
    const waiting = startDial(relay.port, '/wait', client.secret);
    const notice = await listener.nextNotice();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await dialBack(relay.port, '/wait', relay.keys.server, notice.id)).status).toBe(400);
    expect((await waiting.response).status).toBe(403);
  });

  it('UpdateKey that narrows scopes closes what the key holds outside them (4003), and keeps the rest', async () => {
    await start();
    const server = await newKey('server');
    const off = await openListener('/a/one', server.secret);
    const kept = await openListener('/b/one', server.secret);
    const { dialer } = await makeLink(relay.port, '/a/one', off, { server: server.secret, client: relay.keys.client });
    const keptLink = await makeLink(relay.port, '/b/one', kept, { server: server.secret, client: relay.keys.client });

    const updated = await admin.keys.updateKey({
      key: { name: server.name, scopes: ['/b/*'] },
      updateMask: create(FieldMaskSchema, { paths: ['scopes'] }),
    });
    expect(updated).toMatchObject({ closedRoutes: 1, closedLinks: 1 });
    expect(await off.closed(1000)).toBe(CLOSE_KEY_OUT_OF_SCOPE);
    await ended(linkedSocket(dialer), 1000);
    expect(kept.ws.readyState).toBe(kept.ws.OPEN);
    const a = linkedSocket(keptLink.dialer);
    a.write('ok');
    expect((await readBytes(linkedSocket(keptLink.listenerSide), 2)).toString()).toBe('ok');
  });

  it('the SDK listener surfaces key_revoked as an error and does not reconnect', async () => {
    await start();
    const server = await newKey('server');
    const sdkServer = listen(relay.url('rws', '/sdk', server.secret), { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    const retries: RouteRetryEvent[] = [];
    sdkServer.on('route:retry', (event: RouteRetryEvent) => retries.push(event));
    await nextEvent(sdkServer, 'route:open');
    const error = nextEvent<Error>(sdkServer, 'error');
    const closedEvent = nextEvent(sdkServer, 'close');
    await admin.keys.revokeKey({ name: server.name });
    const err = await error;
    expect(err).toBeInstanceOf(RemotedError);
    expect((err as RemotedError).code).toBe('key_revoked');
    await closedEvent;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(retries).toHaveLength(0);
  });
});
