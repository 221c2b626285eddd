import { status } from '@grpc/grpc-js';
import type { AdminClient } from '@remoted/sdk/admin';
import { KeyRole, KeyState, RoutePolicy } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { rawRequest, readBytes, webRouteHeaders } from '../helpers/raw-http';
import { linkedSocket, makeLink, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { ended } from '../helpers/wait-for';
import { adminClientFor, expectStatus, idOf } from './control-helpers';

describe('control plane: keys', () => {
  let relay: StartedRelay;
  let admin: AdminClient;
  let listener: TestListener | undefined;

  beforeAll(async () => {
    relay = await startRelay();
    admin = adminClientFor(relay);
  });
  afterEach(async () => {
    await listener?.close();
    listener = undefined;
  });
  afterAll(async () => {
    admin.close();
    await relay.close();
  });

  it('creates a client key that dials; revoking it severs its links within a second and refuses new dials (403)', async () => {
    const created = await admin.keys.createKey({ role: KeyRole.CLIENT, label: 'ci dialer', scopes: ['/db/*'] });
    expect(created.secret).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(created.key).toMatchObject({ role: KeyRole.CLIENT, label: 'ci dialer', scopes: ['/db/*'], state: KeyState.ACTIVE });

    listener = await TestListener.open(relay.port, '/db/one', relay.keys.server);
    const { dialer, listenerSide } = await makeLink(relay.port, '/db/one', listener, { server: relay.keys.server, client: created.secret });
    const a = linkedSocket(dialer);
    const b = linkedSocket(listenerSide);
    a.write('hello');
    expect((await readBytes(b, 5)).toString()).toBe('hello');

    const revokedAt = Date.now();
    const revoked = await admin.keys.revokeKey({ name: created.key!.name, closeConnections: true });
    expect(revoked).toMatchObject({ closedLinks: 1, closedRoutes: 0, key: { state: KeyState.REVOKED } });
    await Promise.all([ended(a, 1000), ended(b, 1000)]);
    expect(Date.now() - revokedAt).toBeLessThan(1000);

    const refused = await rawRequest(relay.port, '/db/one', { headers: webRouteHeaders(created.secret) });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ errorcode: 'invalid_missing_apikey' });
    // The listener (another key) is untouched.
    expect((await admin.routes.listRoutes({})).routes.map((r) => r.path)).toEqual(['/db/one']);
  });

  it('answers a dialer of a revoked key that still waited 403, not 502: the listener is fine', async () => {
    const created = await admin.keys.createKey({ role: KeyRole.CLIENT });
    listener = await TestListener.open(relay.port, '/waits', relay.keys.server);
    const waiting = startDial(relay.port, '/waits', created.secret);
    await listener.nextNotice();
    const revoked = await admin.keys.revokeKey({ name: created.key!.name, closeConnections: true });
    expect(revoked.closedLinks).toBe(0);
    const answer = await waiting.response;
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ errorcode: 'invalid_missing_apikey', error: 'The key of this dial was revoked or cut off while it waited.' });
  });

  it('refuses a key outside its scopes like an unknown one', async () => {
    const { secret } = await admin.keys.createKey({ role: KeyRole.CLIENT, scopes: ['/db/*'] });
    listener = await TestListener.open(relay.port, '/web', relay.keys.server);
    expect((await rawRequest(relay.port, '/web', { headers: webRouteHeaders(secret) })).status).toBe(403);
  });

  it('lists, gets and updates keys, with pages', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await admin.keys.createKey({ role: KeyRole.SERVER, label: `page ${i}` })).key!);
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await admin.keys.listKeys({ role: KeyRole.SERVER, pageSize: 2, pageToken });
      expect(page.keys.length).toBeLessThanOrEqual(2);
      seen.push(...page.keys.map((k) => k.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([...seen].sort());
    for (const key of made) expect(seen).toContain(key.name);

    const got = await admin.keys.getKey({ name: idOf(made[0].name) });
    expect(got.key?.label).toBe('page 0');
    const updated = await admin.keys.updateKey({ key: { name: made[0].name, label: 'renamed', scopes: ['/a/**'] }, updateMask: { paths: ['label'] } });
    expect(updated.key).toMatchObject({ label: 'renamed', scopes: [] });
    const scoped = await admin.keys.updateKey({ key: { name: made[0].name, scopes: ['/a/**'] }, updateMask: { paths: ['scopes'] } });
    expect(scoped.key).toMatchObject({ label: 'renamed', scopes: ['/a/**'] });
  });

  it('answers INVALID_ARGUMENT naming the field and NOT_FOUND naming the resource', async () => {
    expect(await expectStatus(admin.keys.createKey({}), status.INVALID_ARGUMENT)).toMatch(/^role: required/);
    expect(await expectStatus(admin.keys.createKey({ role: KeyRole.CLIENT, scopes: ['/ok', 'db'] }), status.INVALID_ARGUMENT)).toMatch(/^scopes\[1\]: /);
    expect(await expectStatus(admin.keys.createKey({ role: KeyRole.CLIENT, expireTime: { seconds: 1n } }), status.INVALID_ARGUMENT)).toMatch(/^expire_time: /);
    expect(await expectStatus(admin.keys.getKey({ name: 'keys/key_nope' }), status.NOT_FOUND)).toMatch(/^keys\/key_nope not found/);
    expect(await expectStatus(admin.keys.getKey({}), status.INVALID_ARGUMENT)).toMatch(/^name: required/);
    expect(await expectStatus(admin.keys.updateKey({ key: { name: 'keys/key_nope' }, updateMask: { paths: ['label'] } }), status.NOT_FOUND)).toMatch(/keys\/key_nope/);
    const { key } = await admin.keys.createKey({ role: KeyRole.CLIENT });
    expect(await expectStatus(admin.keys.updateKey({ key: { name: key!.name } }), status.INVALID_ARGUMENT)).toMatch(/^update_mask: /);
    expect(await expectStatus(admin.keys.updateKey({ key: { name: key!.name }, updateMask: { paths: ['role'] } }), status.INVALID_ARGUMENT)).toMatch(/"role" cannot be updated/);
    expect(await expectStatus(admin.keys.listKeys({ pageToken: 'garbage!' }), status.INVALID_ARGUMENT)).toMatch(/^page_token: /);
  });

  it('refuses an expire_time out of range (seconds or nanos) with INVALID_ARGUMENT, and creates no key', async () => {
    const before = await countKeys(admin);
    const cases: Array<[{ seconds: bigint; nanos?: number }, RegExp]> = [
      [{ seconds: 10n ** 13n }, /^expire_time: seconds 10000000000000 is out of range/],
      [{ seconds: 253_402_300_800n }, /^expire_time: seconds .* is out of range/],
      [{ seconds: -(10n ** 13n) }, /^expire_time: seconds .* is out of range/],
      [{ seconds: 4_000_000_000n, nanos: -1 }, /^expire_time: nanos -1 is out of range/],
      [{ seconds: 4_000_000_000n, nanos: 1_000_000_000 }, /^expire_time: nanos 1000000000 is out of range/],
    ];
    for (const [expireTime, message] of cases) {
      expect(await expectStatus(admin.keys.createKey({ role: KeyRole.CLIENT, label: 'out of range', expireTime }), status.INVALID_ARGUMENT)).toMatch(message);
    }
    expect(await countKeys(admin)).toBe(before);
    // The last second of the range is a valid expiry.
    const latest = await admin.keys.createKey({ role: KeyRole.CLIENT, expireTime: { seconds: 253_402_300_799n, nanos: 999_999_999 } });
    expect(latest.key?.expireTime?.seconds).toBe(253_402_300_799n);
    expect(await countKeys(admin)).toBe(before + 1);
  });

  it('refuses scopes past 256 characters or 16 wildcards with INVALID_ARGUMENT naming the pattern, and creates no key', async () => {
    const before = await countKeys(admin);
    expect(await expectStatus(admin.keys.createKey({ role: KeyRole.CLIENT, scopes: ['/ok', `/${'a'.repeat(256)}`] }), status.INVALID_ARGUMENT)).toMatch(/^scopes\[1\]: .*at most 256/);
    expect(await expectStatus(admin.keys.createKey({ role: KeyRole.CLIENT, scopes: [`/p/${'*-'.repeat(17)}z`] }), status.INVALID_ARGUMENT)).toMatch(/^scopes\[0\]: .*at most 16/);
    expect(await countKeys(admin)).toBe(before);
  });

  it("stores a server key's route policy and pool size, and sets them back to the relay's default", async () => {
    const plain = await admin.keys.createKey({ role: KeyRole.SERVER, label: 'no policy' });
    expect(plain.key).toMatchObject({ routePolicy: RoutePolicy.UNSPECIFIED, poolSize: 0 });

    const { key } = await admin.keys.createKey({ role: KeyRole.SERVER, label: 'pooled', routePolicy: RoutePolicy.POOL, poolSize: 4 });
    expect(key).toMatchObject({ routePolicy: RoutePolicy.POOL, poolSize: 4 });
    expect((await admin.keys.getKey({ name: key!.name })).key).toMatchObject({ routePolicy: RoutePolicy.POOL, poolSize: 4 });
    const listed = (await admin.keys.listKeys({ role: KeyRole.SERVER })).keys.find((k) => k.name === key!.name);
    expect(listed).toMatchObject({ routePolicy: RoutePolicy.POOL, poolSize: 4 });
    // What the relay reads when a listener connects: the store's own record.
    expect(await relay.store.get(idOf(key!.name))).toMatchObject({ routePolicy: 'pool', poolSize: 4 });

    const takeover = await admin.keys.updateKey({ key: { name: key!.name, routePolicy: RoutePolicy.TAKEOVER }, updateMask: { paths: ['route_policy'] } });
    expect(takeover.key).toMatchObject({ routePolicy: RoutePolicy.TAKEOVER, poolSize: 4, label: 'pooled' });
    const resized = await admin.keys.updateKey({ key: { name: key!.name, poolSize: 2 }, updateMask: { paths: ['pool_size'] } });
    expect(resized.key).toMatchObject({ routePolicy: RoutePolicy.TAKEOVER, poolSize: 2 });

    const cleared = await admin.keys.updateKey({ key: { name: key!.name }, updateMask: { paths: ['route_policy', 'pool_size'] } });
    expect(cleared.key).toMatchObject({ routePolicy: RoutePolicy.UNSPECIFIED, poolSize: 0, label: 'pooled' });
    const stored = await relay.store.get(idOf(key!.name));
    expect(stored?.routePolicy).toBeUndefined();
    expect(stored?.poolSize).toBeUndefined();
  });

  it('refuses a route policy or pool size on a key that is not a server key, and out-of-range values', async () => {
    expect(await expectStatus(admin.keys.createKey({ role: KeyRole.CLIENT, routePolicy: RoutePolicy.POOL }), status.INVALID_ARGUMENT)).toMatch(
      /^route_policy: only server keys have one, and this key's role is client/,
    );
    expect(await expectStatus(admin.keys.createKey({ role: KeyRole.ADMIN, poolSize: 3 }), status.INVALID_ARGUMENT)).toMatch(/^pool_size: only server keys have one, and this key's role is admin/);
    expect(await expectStatus(admin.keys.createKey({ role: KeyRole.SERVER, poolSize: 10_001 }), status.INVALID_ARGUMENT)).toMatch(/^pool_size: at most 10000 listeners \(got 10001\)/);
    expect(await expectStatus(admin.keys.createKey({ role: KeyRole.SERVER, routePolicy: 99 as RoutePolicy }), status.INVALID_ARGUMENT)).toMatch(/^route_policy: unknown route policy 99/);

    const { key } = await admin.keys.createKey({ role: KeyRole.CLIENT, label: 'dialer' });
    const refused = admin.keys.updateKey({ key: { name: key!.name, label: 'changed', routePolicy: RoutePolicy.TAKEOVER }, updateMask: { paths: ['label', 'route_policy'] } });
    expect(await expectStatus(refused, status.INVALID_ARGUMENT)).toMatch(/^key\.route_policy: only server keys/);
    expect(await expectStatus(admin.keys.updateKey({ key: { name: key!.name, poolSize: 2 }, updateMask: { paths: ['pool_size'] } }), status.INVALID_ARGUMENT)).toMatch(/^key\.pool_size: /);
    // A refused update changes nothing, not even the fields that were valid.
    expect((await admin.keys.getKey({ name: key!.name })).key?.label).toBe('dialer');
    // Back to the default is no policy at all, so any role may ask for it.
    const unchanged = await admin.keys.updateKey({ key: { name: key!.name }, updateMask: { paths: ['route_policy', 'pool_size'] } });
    expect(unchanged.key).toMatchObject({ routePolicy: RoutePolicy.UNSPECIFIED, poolSize: 0, label: 'dialer' });
  });
});

/** Every key the relay holds, revoked ones too, over all pages. */
async function countKeys(admin: AdminClient): Promise<number> {
  let count = 0;
  let pageToken = '';
  do {
    const page = await admin.keys.listKeys({ showRevoked: true, pageSize: 100, pageToken });
    count += page.keys.length;
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return count;
}
