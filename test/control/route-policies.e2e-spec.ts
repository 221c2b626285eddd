/**
 * Route policies and drain through the control plane, against the real
 * relay: a key's policy and pool size decide who may join a path, several
 * routes share it, and DrainRoute stops new dials to one of them.
 */
import { status } from '@grpc/grpc-js';
import type { AdminClient } from '@remoted/sdk/admin';
import type { Event } from '@remoted/sdk/gen/remoted/admin/v1/event_service_pb';
import { KeyRole, RoutePolicy } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { DrainedBy, RouteCloseReason, RouteState } from '@remoted/sdk/gen/remoted/admin/v1/route_pb';
import { CLOSE_REPLACED, FEATURE_DRAIN, WIRE_HEADER_FEATURES } from '@remoted/sdk/protocol';
import { readBytes } from '../helpers/raw-http';
import { dialBack, linkedSocket, makeLink, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { adminClientFor, expectStatus, idOf } from './control-helpers';

const POOL_DEADLINE_MS = 300;

describe('control plane: route policies and drain', () => {
  let relay: StartedRelay;
  let admin: AdminClient;
  const listeners: TestListener[] = [];

  beforeEach(async () => {
    // A short pool deadline, so that a slow member is bypassed quickly.
    relay = await startRelay({ routes: { poolDialbackDeadlineMs: POOL_DEADLINE_MS } });
    admin = adminClientFor(relay);
  });
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => l.close()));
    admin.close();
    await relay.close();
  });

  /** A listener that is closed after the test; `drain` asks for the drain feature. */
  async function listen(path: string, key: string, opts: { drain?: boolean } = {}): Promise<TestListener> {
    const headers: Record<string, string> = opts.drain ? { [WIRE_HEADER_FEATURES]: FEATURE_DRAIN } : {};
    const listener = await TestListener.openUrl(`ws://127.0.0.1:${relay.port}${path}`, key, { headers });
    listeners.push(listener);
    return listener;
  }

  async function serverKey(routePolicy: RoutePolicy, poolSize = 0): Promise<string> {
    return (await admin.keys.createKey({ role: KeyRole.SERVER, label: `policy ${routePolicy}`, routePolicy, poolSize })).secret;
  }

  it("lets a pool key's listeners share a path up to its pool size, lists them by path, and names them when a path is ambiguous", async () => {
    const key = await serverKey(RoutePolicy.POOL, 2);
    const first = await listen('/pool', key);
    await listen('/pool', key);
    await expect(listen('/pool', key)).rejects.toMatchObject({ status: 409 });
    await listen('/other', relay.keys.server);

    const { routes } = await admin.routes.listRoutes({ path: '/pool' });
    expect(routes).toHaveLength(2);
    for (const route of routes) expect(route).toMatchObject({ path: '/pool', state: RouteState.ACTIVE, policy: RoutePolicy.POOL, slowDialbacks: 0, spares: 0, features: [] });
    expect(new Set(routes.map((r) => r.name)).size).toBe(2);
    expect((await admin.routes.listRoutes({})).routes.map((r) => r.path)).toEqual(['/other', '/pool', '/pool']);
    expect((await admin.routes.listRoutes({ path: '/nobody' })).routes).toEqual([]);
    expect(await expectStatus(admin.routes.listRoutes({ path: 'pool' }), status.INVALID_ARGUMENT)).toMatch(/^path: "pool" is not a path/);
    // Two pages of one route each: the listeners of one path are not skipped by the token.
    const page = await admin.routes.listRoutes({ path: '/pool', pageSize: 1 });
    const next = await admin.routes.listRoutes({ path: '/pool', pageSize: 1, pageToken: page.nextPageToken });
    expect([...page.routes, ...next.routes].map((r) => r.name).sort()).toEqual(routes.map((r) => r.name).sort());

    for (const call of [admin.routes.getRoute({ path: '/pool' }), admin.routes.closeRoute({ path: '/pool' }), admin.routes.drainRoute({ path: '/pool' })]) {
      const details = await expectStatus(call, status.FAILED_PRECONDITION);
      expect(details).toMatch(/^path \/pool has 2 listeners/);
      for (const route of routes) expect(details).toContain(route.name);
    }
    expect(await expectStatus(admin.routes.getRoute({ path: '/nobody' }), status.NOT_FOUND)).toMatch(/^route on path \/nobody not found/);
    expect(await expectStatus(admin.routes.drainRoute({}), status.INVALID_ARGUMENT)).toMatch(/^name: set exactly one/);
    expect(await expectStatus(admin.routes.drainRoute({ name: 'routes/lsn_gone' }), status.NOT_FOUND)).toMatch(/^routes\/lsn_gone not found/);
    // By name, each of them is still reachable.
    expect((await admin.routes.getRoute({ name: routes[0].name })).route?.path).toBe('/pool');
    expect(first.closeCode).toBeUndefined();
  });

  it('replaces the listener of a takeover key, and reports the close as REPLACED', async () => {
    const key = await serverKey(RoutePolicy.TAKEOVER);
    const watch = admin.watch();
    await watch.ready;
    const old = await listen('/takeover', key);
    const [before] = (await admin.routes.listRoutes({ path: '/takeover' })).routes;
    expect(before.policy).toBe(RoutePolicy.TAKEOVER);

    await listen('/takeover', key);
    expect(await old.closed()).toBe(CLOSE_REPLACED);
    const events = await eventsUntil(watch, (e) => e.kind.case === 'routeClosed');
    const opened = events.filter((e) => e.kind.case === 'routeOpened').map((e) => e.kind.value);
    // A route that is still registered is streamed with its listener's state and policy.
    expect(opened).toEqual([
      expect.objectContaining({ route: expect.objectContaining({ name: before.name, state: RouteState.ACTIVE, policy: RoutePolicy.TAKEOVER }) }),
      expect.objectContaining({ route: expect.objectContaining({ state: RouteState.ACTIVE, policy: RoutePolicy.TAKEOVER }) }),
    ]);
    const closed = events[events.length - 1];
    expect(closed.kind).toMatchObject({ case: 'routeClosed', value: { reason: RouteCloseReason.REPLACED, route: { name: before.name } } });
    const { routes } = await admin.routes.listRoutes({ path: '/takeover' });
    expect(routes).toHaveLength(1);
    expect(routes[0].name).not.toBe(before.name);
    watch.cancel();
  });

  it("applies a key's new policy to the listeners that join after UpdateKey", async () => {
    const { key, secret } = await admin.keys.createKey({ role: KeyRole.SERVER, label: 'exclusive first' });
    await listen('/grow', secret);
    await expect(listen('/grow', secret)).rejects.toMatchObject({ status: 409 });
    await admin.keys.updateKey({ key: { name: key!.name, routePolicy: RoutePolicy.POOL, poolSize: 3 }, updateMask: { paths: ['route_policy', 'pool_size'] } });
    await listen('/grow', secret);
    const policies = (await admin.routes.listRoutes({ path: '/grow' })).routes.map((r) => r.policy);
    // Each route shows the policy in force when its listener joined.
    expect(policies.sort()).toEqual([RoutePolicy.EXCLUSIVE, RoutePolicy.POOL]);
  });

  it('drains a route by path and by name, idempotently, tells a listener that negotiated drain, and streams the event', async () => {
    const watch = admin.watch();
    await watch.ready;
    const listener = await listen('/drain', relay.keys.server, { drain: true });
    const [route] = (await admin.routes.listRoutes({ path: '/drain' })).routes;
    expect(route.features).toContain(FEATURE_DRAIN);

    const drained = await admin.routes.drainRoute({ path: '/drain' });
    expect(drained.route).toMatchObject({ name: route.name, state: RouteState.DRAINING });
    expect((await listener.nextNotice()) as unknown).toEqual({ op: 'draining', by: 'operator' });
    const again = await admin.routes.drainRoute({ name: idOf(route.name) });
    expect(again.route).toMatchObject({ name: route.name, state: RouteState.DRAINING });
    expect((await admin.routes.getRoute({ name: route.name })).route?.state).toBe(RouteState.DRAINING);

    const event = await firstEvent(watch, (e) => e.kind.case === 'routeDrainStarted');
    expect(event.kind).toMatchObject({ case: 'routeDrainStarted', value: { by: DrainedBy.OPERATOR, route: { name: route.name, state: RouteState.DRAINING } } });
    watch.cancel();
    // Draining twice told the listener once.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(listener.notices).toEqual([]);
  });

  it('sends no new dials to a drained pool member while its open link keeps running', async () => {
    const key = await serverKey(RoutePolicy.POOL, 2);
    const a = await listen('/deploy', key);
    const b = await listen('/deploy', key);
    // Both have no links: the dial goes to the one that joined first.
    const before = await makeLink(relay.port, '/deploy', a, { server: key, client: relay.keys.client });
    const dialer = linkedSocket(before.dialer);
    const server = linkedSocket(before.listenerSide);

    const [routeA] = (await admin.routes.listRoutes({ path: '/deploy' })).routes.filter((r) => r.activeLinks === 1);
    expect((await admin.routes.drainRoute({ name: routeA.name })).route).toMatchObject({ state: RouteState.DRAINING, activeLinks: 1 });

    // b has no link and a has one, so only the drain explains a dial going to b twice.
    for (let i = 0; i < 2; i++) {
      const dial = startDial(relay.port, '/deploy', relay.keys.client);
      const notice = await b.nextNotice();
      expect(notice.id).toBe(dial.id);
      expect((await dialBack(relay.port, '/deploy', key, notice.id)).status).toBe(101);
      expect((await dial.response).status).toBe(101);
    }
    expect(a.notices).toEqual([]);

    dialer.write('still up');
    expect((await readBytes(server, 8)).toString()).toBe('still up');
    const states = (await admin.routes.listRoutes({ path: '/deploy' })).routes.map((r) => [r.name, r.state, r.activeLinks]);
    expect(states).toEqual(expect.arrayContaining([[routeA.name, RouteState.DRAINING, 1], [expect.any(String), RouteState.ACTIVE, 2]]));
  });

  it('counts and streams a slow dial-back when a pool member does not dial back in time', async () => {
    const key = await serverKey(RoutePolicy.POOL, 2);
    const slow = await listen('/slow', key);
    const quick = await listen('/slow', key);
    const watch = admin.watch();
    await watch.ready;
    const dial = startDial(relay.port, '/slow', relay.keys.client);
    // The first member is told first and never answers; after the deadline the other is told of the same dialer.
    expect((await slow.nextNotice()).id).toBe(dial.id);
    expect((await quick.nextNotice(POOL_DEADLINE_MS + 2000)).id).toBe(dial.id);
    expect((await dialBack(relay.port, '/slow', key, dial.id)).status).toBe(101);
    expect((await dial.response).status).toBe(101);

    const event = await firstEvent(watch, (e) => e.kind.case === 'slowDialback');
    const routes = (await admin.routes.listRoutes({ path: '/slow' })).routes;
    const slowRoute = routes.find((r) => r.slowDialbacks === 1);
    expect(slowRoute).toBeDefined();
    expect(routes.filter((r) => r.slowDialbacks === 0)).toHaveLength(1);
    expect(event.kind).toMatchObject({ case: 'slowDialback', value: { route: slowRoute!.name, path: '/slow' } });
    watch.cancel();
  });

  it('lets a new listener of an exclusive key join a path whose only listener drains', async () => {
    await listen('/solo', relay.keys.server);
    await admin.routes.drainRoute({ path: '/solo' });
    const fresh = await listen('/solo', relay.keys.server);
    const dial = startDial(relay.port, '/solo', relay.keys.client);
    expect((await fresh.nextNotice()).id).toBe(dial.id);
    // Two routes now: by path it is ambiguous, so names are needed.
    await expectStatus(admin.routes.getRoute({ path: '/solo' }), status.FAILED_PRECONDITION);
    const states = (await admin.routes.listRoutes({ path: '/solo' })).routes.map((r) => r.state).sort();
    expect(states).toEqual([RouteState.ACTIVE, RouteState.DRAINING]);
  });
});

/** The events up to and including the first one that matches (the stream is done with after it). */
async function eventsUntil(stream: AsyncIterable<Event>, match: (event: Event) => boolean, timeoutMs = 5000): Promise<Event[]> {
  const seen: Event[] = [];
  const cases = (): string => seen.map((e) => e.kind.case).join(', ');
  const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no matching event; saw ${cases()}`)), timeoutMs).unref());
  const found = (async () => {
    for await (const event of stream) {
      seen.push(event);
      if (match(event)) return seen;
    }
    throw new Error(`stream ended; saw ${cases()}`);
  })();
  return Promise.race([found, timer]);
}

async function firstEvent(stream: AsyncIterable<Event>, match: (event: Event) => boolean): Promise<Event> {
  return (await eventsUntil(stream, match)).pop()!;
}
