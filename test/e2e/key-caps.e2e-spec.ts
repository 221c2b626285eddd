/**
 * Per-key caps: one tenant's key cannot use up the relay-wide limits. Each cap
 * has a relay default (REMOTED_MAX_*_PER_KEY) and may be set per key over gRPC;
 * past it the relay answers 503 over_capacity while other keys still work.
 */
import { status } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { FieldMaskSchema } from '@bufbuild/protobuf/wkt';
import type { AdminClient } from '@remoted/sdk/admin';
import { KeyRole } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { randomToken } from '@remoted/sdk/protocol';
import { buildRequest, connectTo, rawRequest, readResponse, webRouteHeaders } from '../helpers/raw-http';
import { makeLink, startDial, TestListener } from '../helpers/relay-peers';
import type { StartedRelay } from '../helpers/start-relay';
import { AdminRelayFixture } from '../helpers/admin-relay-fixture';
import { waitFor } from '../helpers/wait-for';
import { expectStatus } from '../control/control-helpers';
import type { Config } from '../../src/config/config';
import type { DeepPartial } from '../../src/config/load-config';
import { RelayService } from '../../src/relay/relay.service';

describe('per-key caps', () => {
  const fixture = new AdminRelayFixture();
  let relay: StartedRelay;
  let admin: AdminClient;
  async function start(overrides: DeepPartial<Config> = {}): Promise<void> {
    await fixture.start(overrides);
    ({ relay, admin } = fixture);
  }
  const openListener = (path: string, key: string, options = {}): Promise<TestListener> => fixture.openListener(path, key, options);
  async function refusedListener(path: string, key: string): Promise<{ status?: number; body?: string }> {
    return openListener(path, key).then(
      () => ({}),
      (err: { status?: number; body?: string }) => err,
    );
  }
  afterEach(() => fixture.close());

  it('a server key with max_routes 2 gets 503 for a third listener; another key still opens one', async () => {
    await start();
    const made = await admin.keys.createKey({ role: KeyRole.SERVER, maxRoutes: 2 });
    expect(made.key!.maxRoutes).toBe(2);
    await openListener('/r1', made.secret);
    await openListener('/r2', made.secret);
    const third = await refusedListener('/r3', made.secret);
    expect(third.status).toBe(503);
    expect(JSON.parse(third.body ?? '{}')).toMatchObject({ success: false, errorcode: 'over_capacity' });
    await openListener('/r3', relay.keys.server);
  });

  it('the relay default caps routes per key (REMOTED_MAX_ROUTES_PER_KEY), and UpdateKey raises it for one key', async () => {
    await start({ limits: { maxRoutesPerKey: 1 } });
    const made = await admin.keys.createKey({ role: KeyRole.SERVER });
    await openListener('/d1', made.secret);
    expect((await refusedListener('/d2', made.secret)).status).toBe(503);
    const updated = await admin.keys.updateKey({
      key: { name: made.key!.name, maxRoutes: 2 },
      updateMask: create(FieldMaskSchema, { paths: ['max_routes'] }),
    });
    expect(updated.key!.maxRoutes).toBe(2);
    await openListener('/d2', made.secret);
  });

  it('a client key with max_waiting_dialers 1 gets 503 for a second waiting dial; another client key still waits', async () => {
    await start();
    const made = await admin.keys.createKey({ role: KeyRole.CLIENT, maxWaitingDialers: 1 });
    const listener = await openListener('/w', relay.keys.server);
    startDial(relay.port, '/w', made.secret);
    await listener.nextNotice();
    const second = await rawRequest(relay.port, '/w', { headers: webRouteHeaders(made.secret) });
    expect(second.status).toBe(503);
    expect(JSON.parse(second.body)).toMatchObject({ errorcode: 'over_capacity' });
    startDial(relay.port, '/w', relay.keys.client);
    await listener.nextNotice();
  });

  it('a client key with max_links 1 gets 503 for a second dial while its link is open', async () => {
    await start();
    const made = await admin.keys.createKey({ role: KeyRole.CLIENT, maxLinks: 1 });
    const listener = await openListener('/l', relay.keys.server);
    const { dialer } = await makeLink(relay.port, '/l', listener, { server: relay.keys.server, client: made.secret });
    expect(dialer.status).toBe(101);
    const second = await rawRequest(relay.port, '/l', { headers: webRouteHeaders(made.secret) });
    expect(second.status).toBe(503);
  });

  it('a server key with max_spares 1 gets 503 for a second spare over all its listeners', async () => {
    await start();
    const made = await admin.keys.createKey({ role: KeyRole.SERVER, maxSpares: 1 });
    const features = { headers: { 'X-Remoted-Features': 'spare, drain' } };
    const a = await openListener('/s1', made.secret, features);
    const b = await openListener('/s2', made.secret, features);
    const spare = async (path: string, listener: TestListener) => {
      const socket = await connectTo(relay.port);
      const listenerId = String(listener.upgradeHeaders['x-remoted-listener-id']);
      socket.write(buildRequest(path, 'GET', webRouteHeaders(made.secret, randomToken(), { 'X-Remoted-Spare': listenerId })));
      return readResponse(socket, 10_000);
    };
    void spare('/s1', a);
    await waitFor(() => relay.app.get(RelayService).spareCount === 1, 'first spare held');
    const second = await spare('/s2', b);
    expect(second.status).toBe(503);
    expect(JSON.parse(second.body)).toMatchObject({ errorcode: 'over_capacity' });
  });

  it('refuses a cap on a role that never holds such a thing, naming the field', async () => {
    await start();
    const details = await expectStatus(admin.keys.createKey({ role: KeyRole.CLIENT, maxRoutes: 3 }), status.INVALID_ARGUMENT);
    expect(details).toMatch(/^max_routes: only server keys/);
    const server = await admin.keys.createKey({ role: KeyRole.SERVER });
    const update = admin.keys.updateKey({
      key: { name: server.key!.name, maxLinks: 3 },
      updateMask: create(FieldMaskSchema, { paths: ['max_links'] }),
    });
    expect(await expectStatus(update, status.INVALID_ARGUMENT)).toMatch(/^key\.max_links: only client keys/);
  });
});
