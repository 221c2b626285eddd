/**
 * RouteLeases on a real redis-server: several instances with their own node
 * ids and connections on one Redis, as several relay nodes. The route
 * policies must hold across them exactly as admitListener holds them on one
 * node, and leases must run out, be renewed and be reported lost.
 */
import fc from 'fast-check';
import Redis from 'ioredis';
import { type ClaimResult, type HeldLease, type RouteClaim, routeLeaseKey, RouteLeases } from '../../src/cluster/route-leases';
import type { RoutePolicy } from '../../src/keys/route-policy';
import { admitListener } from '../../src/relay/routes/route-admission';
import { type RunningRedis, startRedis } from '../helpers/redis-server';
import { routeListener } from '../unit/relay/routes/route-listener';

/** Short, to keep the spec fast; long enough that a renew every LEASE_MS / 4 never misses on a loaded machine. */
const LEASE_MS = 600;
/** How late past its lease a path may become free: Redis's clock and ours are one machine's, so this is scheduling slack. */
const EXPIRY_MARGIN_MS = 300;

let prefixes = 0;
/** Each test's leases under a prefix of their own, so tests on one server never see each other's. */
const freshPrefix = (): string => `test-${process.pid}-${++prefixes}:`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type ClaimOptions = Partial<Omit<RouteClaim, 'path' | 'listenerId'>>;

describe('RouteLeases', () => {
  let redis: RunningRedis;
  let raw: Redis;
  let prefix: string;
  const connections: Redis[] = [];
  /** A node: its own connection, as a relay node has. */
  const node = (nodeId: string, leaseMs = LEASE_MS): RouteLeases => {
    const connection = new Redis(redis.url);
    connections.push(connection);
    return new RouteLeases({ redis: connection, nodeId, leaseMs, prefix });
  };
  const claim = (leases: RouteLeases, path: string, listenerId: string, options: ClaimOptions = {}): Promise<ClaimResult> =>
    leases.claim({ path, listenerId, keyId: 'key-1', policy: 'exclusive', poolSize: 1, ...options });
  const redisNowMs = async (): Promise<number> => {
    const [seconds, micros] = await raw.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };
  const holders = async (leases: RouteLeases, path: string): Promise<string[]> =>
    (await leases.lookup(path)).map((lease) => `${lease.nodeId}/${lease.listenerId}/${lease.state}`).sort();

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    await raw?.quit();
    await redis?.stop();
  });
  beforeEach(() => {
    prefix = freshPrefix();
  });
  afterEach(async () => {
    await Promise.all(connections.splice(0).map((connection) => connection.quit()));
  });

  it('picks for a dial only an active, live listener of another node, and records where the dial waits only when it picked one', async () => {
    const a = node('node-a');
    const b = node('node-b');
    const record = (id: string) => ({ key: `${prefix}dial:${id}`, value: 'node-a', ttlMs: 5000 });
    expect(await a.pickElsewhere('/pick', record('none'))).toBeUndefined();
    expect(await raw.exists(`${prefix}dial:none`)).toBe(0);
    await claim(a, '/pick', 'own');
    expect(await a.pickElsewhere('/pick', record('own'))).toBeUndefined();
    await claim(b, '/pool', 'b1', { policy: 'pool', poolSize: 3 });
    await claim(b, '/pool', 'b2', { policy: 'pool', poolSize: 3 });
    await b.renew([{ path: '/pool', listenerId: 'b2', state: 'draining' }, { path: '/pool', listenerId: 'b1', state: 'active' }]);
    for (let i = 0; i < 20; i++) expect(await a.pickElsewhere('/pool', record(`d${i}`))).toEqual({ nodeId: 'node-b', listenerId: 'b1', keyId: 'key-1', state: 'active' });
    expect(await raw.get(`${prefix}dial:d0`)).toBe('node-a');
    const ttl = await raw.pttl(`${prefix}dial:d0`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
  });

  it('keeps one hash per path in the documented layout, expiring with its latest lease', async () => {
    const a = node('node-a');
    const before = await redisNowMs();
    expect(await claim(a, '/db/x', 'l1', { keyId: 'key|with|bars' })).toEqual({ admitted: true, replaces: [] });
    const after = await redisNowMs();

    const key = `${prefix}route:/db/x`;
    expect(routeLeaseKey('/db/x', prefix)).toBe(key);
    const fields = await raw.hgetall(key);
    expect(Object.keys(fields)).toEqual(['l1']);
    // <expiresAtMs>|<a|d>|<nodeId>|<keyId>: the key id last, so it may hold anything.
    const [, expiresAtMs, state, nodeId, keyId] = /^(\d+)\|(.)\|([^|]+)\|(.*)$/s.exec(fields.l1) ?? [];
    expect({ state, nodeId, keyId }).toEqual({ state: 'a', nodeId: 'node-a', keyId: 'key|with|bars' });
    expect(Number(expiresAtMs)).toBeGreaterThanOrEqual(before + LEASE_MS);
    expect(Number(expiresAtMs)).toBeLessThanOrEqual(after + LEASE_MS);
    const ttl = await raw.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(LEASE_MS);
    expect(await a.lookup('/db/x')).toEqual([{ nodeId: 'node-a', listenerId: 'l1', keyId: 'key|with|bars', state: 'active' }]);
  });

  it('on exclusive, refuses a second listener from another node, and names another key when the key differs', async () => {
    const [a, b] = [node('node-a'), node('node-b')];
    expect(await claim(a, '/db', 'a1')).toEqual({ admitted: true, replaces: [] });
    expect(await claim(b, '/db', 'b1')).toEqual({ admitted: false, message: 'Another listener is already listening on this path.' });
    expect(await claim(b, '/db', 'b2', { keyId: 'key-2' })).toEqual({ admitted: false, message: 'Another key is listening on this path.' });
    // One key per path whatever the policy, and whatever state the other key's listener is in.
    expect(await claim(b, '/db', 'b3', { keyId: 'key-2', policy: 'takeover' })).toEqual({ admitted: false, message: 'Another key is listening on this path.' });
    await a.renew([{ path: '/db', listenerId: 'a1', state: 'draining' }]);
    expect(await claim(b, '/db', 'b4', { keyId: 'key-2', policy: 'pool', poolSize: 5 })).toEqual({ admitted: false, message: 'Another key is listening on this path.' });
    expect(await holders(b, '/db')).toEqual(['node-a/a1/draining']);
  });

  it('on takeover, admits the newcomer and hands back the other node\'s active listener, removed', async () => {
    const [a, b] = [node('node-a'), node('node-b')];
    await claim(a, '/t', 'a1', { policy: 'takeover' });
    expect(await claim(b, '/t', 'b1', { policy: 'takeover' })).toEqual({ admitted: true, replaces: [{ nodeId: 'node-a', listenerId: 'a1' }] });
    expect(await holders(a, '/t')).toEqual(['node-b/b1/active']);
    expect(await a.renew([{ path: '/t', listenerId: 'a1', state: 'active' }])).toEqual({ lost: [{ path: '/t', listenerId: 'a1' }] });

    // A draining listener is not replaced: it finishes its links.
    await b.renew([{ path: '/t', listenerId: 'b1', state: 'draining' }]);
    expect(await claim(a, '/t', 'a2', { policy: 'takeover' })).toEqual({ admitted: true, replaces: [] });
    expect(await claim(b, '/t', 'b2', { policy: 'takeover' })).toEqual({ admitted: true, replaces: [{ nodeId: 'node-a', listenerId: 'a2' }] });
    expect(await holders(a, '/t')).toEqual(['node-b/b1/draining', 'node-b/b2/active']);
  });

  it('on pool, admits up to the pool size across nodes, then refuses with the count', async () => {
    const [a, b, c] = [node('node-a'), node('node-b'), node('node-c')];
    const pool = { policy: 'pool', poolSize: 3 } as const;
    expect(await claim(a, '/p', 'a1', pool)).toMatchObject({ admitted: true });
    expect(await claim(b, '/p', 'b1', pool)).toMatchObject({ admitted: true });
    expect(await claim(c, '/p', 'c1', pool)).toMatchObject({ admitted: true });
    expect(await claim(c, '/p', 'c2', pool)).toEqual({ admitted: false, message: 'The pool on this path is full (3 of 3 listeners).' });
    expect(await claim(a, '/p', 'a2', { policy: 'pool', poolSize: 2 })).toEqual({ admitted: false, message: 'The pool on this path is full (3 of 2 listeners).' });
    // A draining member leaves a seat.
    await b.renew([{ path: '/p', listenerId: 'b1', state: 'draining' }]);
    expect(await claim(c, '/p', 'c3', pool)).toEqual({ admitted: true, replaces: [] });
    expect(await claim(a, '/p', 'a3', pool)).toMatchObject({ admitted: false });
    expect(await holders(a, '/p')).toEqual(['node-a/a1/active', 'node-b/b1/draining', 'node-c/c1/active', 'node-c/c3/active']);
  });

  it('does not count draining listeners as active, and never turns a draining one back to active', async () => {
    const [a, b] = [node('node-a'), node('node-b')];
    await claim(a, '/d', 'a1');
    expect(await a.renew([{ path: '/d', listenerId: 'a1', state: 'draining' }])).toEqual({ lost: [] });
    expect(await claim(b, '/d', 'b1')).toEqual({ admitted: true, replaces: [] });
    expect(await claim(b, '/d', 'b2')).toMatchObject({ admitted: false });
    // Told active again (a caller's bug, or an old renew list): it stays draining, so /d keeps one active listener.
    expect(await a.renew([{ path: '/d', listenerId: 'a1', state: 'active' }])).toEqual({ lost: [] });
    expect(await holders(a, '/d')).toEqual(['node-a/a1/draining', 'node-b/b1/active']);
  });

  it('frees a path whose lease is not renewed within the lease and a margin, keeps one that is renewed, and lets an abandoned hash vanish', async () => {
    const [a, b] = [node('node-a'), node('node-b')];
    const started = Date.now();
    await claim(a, '/idle', 'a1');
    await claim(a, '/kept', 'a2');
    await claim(a, '/gone', 'a3');
    const renewFailures: unknown[] = [];
    const renewing = setInterval(() => {
      a.renew([{ path: '/kept', listenerId: 'a2', state: 'active' }]).then(({ lost }) => lost.length > 0 && renewFailures.push(lost), (err: unknown) => renewFailures.push(err));
    }, LEASE_MS / 4);
    try {
      let freedAfterMs: number | undefined;
      while (freedAfterMs === undefined && Date.now() - started < 3 * LEASE_MS) {
        if ((await claim(b, '/idle', 'b1')).admitted) freedAfterMs = Date.now() - started;
        else await sleep(20);
      }
      expect(freedAfterMs).toBeDefined();
      // Not before the lease ran out (a few ms of rounding between the two clocks), and not long after.
      expect(freedAfterMs).toBeGreaterThanOrEqual(LEASE_MS - 10);
      expect(freedAfterMs).toBeLessThanOrEqual(LEASE_MS + EXPIRY_MARGIN_MS);

      await sleep(LEASE_MS);
      expect(await claim(b, '/kept', 'b2')).toMatchObject({ admitted: false });
      expect(await holders(b, '/kept')).toEqual(['node-a/a2/active']);
      expect(await raw.exists(`${prefix}route:/gone`)).toBe(0);
      expect(await b.lookup('/gone')).toEqual([]);
      expect(renewFailures).toEqual([]);
    } finally {
      clearInterval(renewing);
    }
  });

  it('reports lost leases on renew: expired, expired and claimed elsewhere, taken over, released, or never this node\'s', async () => {
    const [a, b] = [node('node-a'), node('node-b')];
    for (const path of ['/expired', '/claimed', '/taken', '/released', '/fine']) await claim(a, path, `a${path}`);
    await claim(b, '/other', 'b1');
    await claim(b, '/taken', 'b-taker', { policy: 'takeover' });
    await a.release('/released', 'a/released');
    // Keep /fine and /other alive through the wait, as the nodes' renew loops would.
    await sleep(LEASE_MS / 2);
    expect(await a.renew([{ path: '/fine', listenerId: 'a/fine', state: 'active' }])).toEqual({ lost: [] });
    expect(await b.renew([{ path: '/other', listenerId: 'b1', state: 'active' }])).toEqual({ lost: [] });
    await sleep(LEASE_MS / 2 + 100);
    await claim(b, '/claimed', 'b-claimer');

    const held: HeldLease[] = [...['/expired', '/claimed', '/taken', '/released', '/fine'].map((path) => ({ path, listenerId: `a${path}`, state: 'active' as const })), { path: '/other', listenerId: 'b1', state: 'active' }];
    const { lost } = await a.renew(held);
    expect(lost).toEqual([
      { path: '/expired', listenerId: 'a/expired' },
      { path: '/claimed', listenerId: 'a/claimed' },
      { path: '/taken', listenerId: 'a/taken' },
      { path: '/released', listenerId: 'a/released' },
      { path: '/other', listenerId: 'b1' },
    ]);
    // The expired one is deleted, not revived by a later renew; another node's is left alone.
    expect(await raw.hexists(`${prefix}route:/expired`, 'a/expired')).toBe(0);
    expect((await a.renew([{ path: '/expired', listenerId: 'a/expired', state: 'active' }])).lost).toHaveLength(1);
    expect(await holders(a, '/other')).toEqual(['node-b/b1/active']);
    expect(await holders(a, '/fine')).toEqual(['node-a/a/fine/active']);
    expect(await a.renew([])).toEqual({ lost: [] });
  });

  it('frees a path at once on release, and ignores a release by a node that does not hold the lease', async () => {
    const [a, b] = [node('node-a'), node('node-b')];
    await claim(a, '/r', 'a1');
    await b.release('/r', 'a1');
    expect(await claim(b, '/r', 'b1')).toMatchObject({ admitted: false });
    await a.release('/r', 'a1');
    expect(await claim(b, '/r', 'b1')).toEqual({ admitted: true, replaces: [] });
    await b.release('/r', 'b1');
    await b.release('/r', 'b1');
    expect(await raw.exists(`${prefix}route:/r`)).toBe(0);
    await a.release('/never', 'x');
  });

  it('looks up live entries only, and skips and drops what is not a lease', async () => {
    const [a, b] = [node('node-a'), node('node-b')];
    const pool = { policy: 'pool', poolSize: 5 } as const;
    await claim(a, '/l', 'a1', pool);
    await claim(b, '/l', 'b1', pool);
    const key = `${prefix}route:/l`;
    const farFuture = (await redisNowMs()) + 60_000;
    await raw.hset(key, 'junk1', 'not a lease', 'junk2', `${farFuture}|x|node-z|key-1`, 'junk3', `${farFuture}|a||key-1`, 'junk4', `${farFuture}|a|node-z|`, 'junk5', '');
    await sleep(LEASE_MS / 2);
    await b.renew([{ path: '/l', listenerId: 'b1', state: 'active' }]);
    expect(await holders(a, '/l')).toEqual(['node-a/a1/active', 'node-b/b1/active']);
    await sleep(LEASE_MS / 2 + 100);
    // a1 expired but is still in the hash: lookup does not show it.
    expect(await raw.hexists(key, 'a1')).toBe(1);
    expect(await holders(a, '/l')).toEqual(['node-b/b1/active']);

    // A claim drops expired and unreadable entries; the pool has one active member, plus this one.
    expect(await claim(a, '/l', 'a2', { ...pool, poolSize: 2 })).toEqual({ admitted: true, replaces: [] });
    expect(Object.keys(await raw.hgetall(key)).sort()).toEqual(['a2', 'b1']);
  });

  it('keeps every path apart, whatever characters it holds, readable where Redis can spell it', async () => {
    const [a, b] = [node('node-a'), node('node-b')];
    const paths = ['/a b', '/ü/日本', '/line\nbreak', '/{tag}', '/x|y', '', '/\uD800', '/\uFFFD', '/\uDC00', `/${'l'.repeat(2000)}`, `/${'l'.repeat(1999)}m`];
    for (const [i, path] of paths.entries()) expect(await claim(a, path, `a${i}`)).toMatchObject({ admitted: true });
    for (const [i, path] of paths.entries()) {
      expect(await claim(b, path, `b${i}`)).toMatchObject({ admitted: false });
      expect(await holders(b, path)).toEqual([`node-a/a${i}/active`]);
    }
    expect(new Set(paths.map((path) => routeLeaseKey(path, prefix))).size).toBe(paths.length);
    expect(await raw.exists(`${prefix}route:/ü/日本`)).toBe(1);
    expect(routeLeaseKey('/\uD800', prefix)).toMatch(new RegExp(`^${prefix}route#[0-9a-f]{64}$`));
    expect((await a.renew(paths.map((path, i) => ({ path, listenerId: `a${i}`, state: 'active' })))).lost).toEqual([]);
  });

  it('admits a claim retried by the same node with the same listener id, and no one else under that id', async () => {
    const [a, b] = [node('node-a'), node('node-b')];
    expect(await claim(a, '/retry', 'l1')).toMatchObject({ admitted: true });
    expect(await claim(a, '/retry', 'l1')).toEqual({ admitted: true, replaces: [] });
    expect(await claim(b, '/retry', 'l1')).toMatchObject({ admitted: false });
    expect(await holders(a, '/retry')).toEqual(['node-a/l1/active']);

    // A retry refused after all (the pool filled meanwhile) leaves no entry behind: its caller closes the listener.
    const pool = { policy: 'pool', poolSize: 1 } as const;
    await claim(a, '/retry-pool', 'l2', pool);
    await a.renew([{ path: '/retry-pool', listenerId: 'l2', state: 'draining' }]);
    await claim(b, '/retry-pool', 'b1', pool);
    expect(await holders(a, '/retry-pool')).toEqual(['node-a/l2/draining', 'node-b/b1/active']);
    expect(await claim(a, '/retry-pool', 'l2', pool)).toEqual({ admitted: false, message: 'The pool on this path is full (1 of 1 listeners).' });
    expect(await holders(a, '/retry-pool')).toEqual(['node-b/b1/active']);
  });

  it('refuses options and claims it could not store faithfully', () => {
    const connection = new Redis(redis.url, { lazyConnect: true });
    connections.push(connection);
    expect(() => new RouteLeases({ redis: connection, nodeId: 'a|b', leaseMs: LEASE_MS })).toThrow(RangeError);
    expect(() => new RouteLeases({ redis: connection, nodeId: '', leaseMs: LEASE_MS })).toThrow(RangeError);
    expect(() => new RouteLeases({ redis: connection, nodeId: 'a', leaseMs: 0 })).toThrow(RangeError);
    expect(() => new RouteLeases({ redis: connection, nodeId: 'a', leaseMs: 1.5e3 + 0.5 })).toThrow(RangeError);
    const leases = new RouteLeases({ redis: connection, nodeId: 'a', leaseMs: LEASE_MS });
    return Promise.all([
      expect(claim(leases, '/v', 'l', { poolSize: -1 })).rejects.toThrow(RangeError),
      expect(claim(leases, '/v', 'l', { policy: 'first' as RoutePolicy })).rejects.toThrow(RangeError),
      expect(claim(leases, '/v', '')).rejects.toThrow(RangeError),
      expect(claim(leases, '/v', 'l', { keyId: '' })).rejects.toThrow(RangeError),
    ]);
  });

  it('renews thousands of leases in one call, and reports exactly the lost ones among them', async () => {
    const [a, b] = [node('node-a', 5000), node('node-b', 5000)];
    const count = 2000;
    const held: HeldLease[] = Array.from({ length: count }, (_, i) => ({ path: `/many/${i % 700}`, listenerId: `l${i}`, state: 'active' }));
    const admitted = await Promise.all(held.map((lease) => claim(a, lease.path, lease.listenerId, { policy: 'pool', poolSize: 10 })));
    expect(admitted.every((result) => result.admitted)).toBe(true);
    expect(await a.renew(held)).toEqual({ lost: [] });

    const taken = held.filter((_, i) => i % 97 === 0);
    const released = held.filter((_, i) => i % 89 === 1);
    await Promise.all(released.map((lease) => a.release(lease.path, lease.listenerId)));
    // One takeover replaces every active listener of its path: those are all lost.
    const replaced = (await Promise.all(taken.map((lease, i) => claim(b, lease.path, `taker${i}`, { policy: 'takeover' }))))
      .flatMap((result) => (result.admitted ? result.replaces : []))
      .map((holder) => holder.listenerId);
    const expected = held.filter((lease) => replaced.includes(lease.listenerId) || released.includes(lease)).map(({ path, listenerId }) => ({ path, listenerId }));
    expect(replaced.length).toBeGreaterThan(taken.length);
    expect(await a.renew(held)).toEqual({ lost: expected });
  });

  it('decides every path state as admitListener does', async () => {
    const a = node('node-a');
    const other = node('node-b');
    const entry = fc.record({ keyId: fc.constantFrom('k1', 'k2'), state: fc.constantFrom('active' as const, 'draining' as const), onA: fc.boolean() });
    const joining = fc.record({ keyId: fc.constantFrom('k1', 'k2'), policy: fc.constantFrom<RoutePolicy>('exclusive', 'takeover', 'pool'), poolSize: fc.integer({ min: 0, max: 4 }) });
    let paths = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 6 }), joining, async (onPath, key) => {
        const path = `/model/${++paths}`;
        // Seeded as claims would leave them, written directly: no sequence of claims reaches some of these states.
        const expiresAtMs = (await redisNowMs()) + 60_000;
        for (const [i, seeded] of onPath.entries()) {
          await raw.hset(routeLeaseKey(path, prefix), `s${i}`, `${expiresAtMs}|${seeded.state[0]}|${seeded.onA ? 'node-a' : 'node-b'}|${seeded.keyId}`);
        }
        const listeners = onPath.map((seeded, i) => routeListener(`s${i}`, { path, keyId: seeded.keyId, state: seeded.state }));
        const expected = admitListener(listeners, { id: key.keyId, policy: key.policy, poolSize: key.poolSize });

        const result = await a.claim({ path, listenerId: 'new', ...key });
        if (!expected.admitted) {
          expect(result).toEqual(expected);
          return;
        }
        expect(result.admitted).toBe(true);
        const replaced = expected.replaces.map((listener) => ({ nodeId: onPath[Number(listener.id.slice(1))].onA ? 'node-a' : 'node-b', listenerId: listener.id }));
        const byId = (x: { listenerId: string }, y: { listenerId: string }): number => x.listenerId.localeCompare(y.listenerId);
        expect(result.admitted && [...result.replaces].sort(byId)).toEqual(replaced.sort(byId));
        const remaining = listeners.filter((listener) => !expected.replaces.includes(listener)).map((listener) => listener.id);
        expect((await other.lookup(path)).map((lease) => lease.listenerId).sort()).toEqual([...remaining, 'new'].sort());
      }),
      { numRuns: 150 },
    );
  });

  it('never has two live active holders of an exclusive path, with nodes racing claims, releases, drains and expiries', async () => {
    const raceLeaseMs = 200;
    const nodes = Array.from({ length: 4 }, (_, n) => node(`race-${n}`, raceLeaseMs));
    const op = fc.record({ node: fc.integer({ min: 0, max: nodes.length - 1 }), kind: fc.constantFrom('claim', 'claim', 'claim', 'release', 'drain', 'lookup'), keyId: fc.constantFrom('k1', 'k1', 'k2') });
    const round = fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 12 }), pauseMs: fc.constantFrom(0, 0, 0, 60, 250) });
    const seen = { admitted: 0, refused: 0, lost: 0 };
    let runs = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(round, { minLength: 1, maxLength: 4 }), async (rounds) => {
        const path = `/race/${++runs}`;
        let listenerIds = 0;
        /** What each node believes it holds: admitted, and neither released nor reported lost. */
        const held = nodes.map(() => new Map<string, HeldLease>());
        /** Claims sent and not answered yet: Redis may have admitted one before its node has heard so. */
        const claiming = new Set<string>();
        /**
         * Released or reported lost in this round: a lookup that ran
         * concurrently may have read Redis before they went, and been answered after.
         */
        const settling = new Set<string>();
        /** concurrent: run among a round's operations (else after they all settled, when Redis must match the nodes' beliefs exactly). */
        const checkLive = async (concurrent: boolean): Promise<void> => {
          const live = await nodes[0].lookup(path);
          expect(live.filter((lease) => lease.state === 'active').length).toBeLessThanOrEqual(1);
          expect(new Set(live.map((lease) => lease.keyId)).size).toBeLessThanOrEqual(1);
          // Every lease Redis has is one some node believes it holds (released and lost ones are gone from Redis).
          for (const lease of live) {
            const believed = held[Number(lease.nodeId.slice('race-'.length))].has(lease.listenerId);
            expect(believed || (concurrent && (claiming.has(lease.listenerId) || settling.has(lease.listenerId)))).toBe(true);
          }
        };

        for (const { ops, pauseMs } of rounds) {
          const targets = held.map((mine) => [...mine.values()]);
          settling.clear();
          await Promise.all(
            ops.map(async ({ node: n, kind, keyId }, i) => {
              const leases = nodes[n];
              const target = targets[n][i % Math.max(1, targets[n].length)];
              switch (kind) {
                case 'claim': {
                  const listenerId = `${n}-${++listenerIds}`;
                  claiming.add(listenerId);
                  const result = await leases.claim({ path, listenerId, keyId, policy: 'exclusive', poolSize: 1 });
                  if (result.admitted) held[n].set(listenerId, { path, listenerId, state: 'active' });
                  claiming.delete(listenerId);
                  seen[result.admitted ? 'admitted' : 'refused']++;
                  return;
                }
                case 'release':
                  if (!target) return;
                  settling.add(target.listenerId);
                  await leases.release(path, target.listenerId);
                  held[n].delete(target.listenerId);
                  return;
                case 'drain': {
                  if (!target) return;
                  const draining = { ...target, state: 'draining' as const };
                  held[n].set(target.listenerId, draining);
                  for (const lost of (await leases.renew([draining])).lost) {
                    settling.add(lost.listenerId);
                    held[n].delete(lost.listenerId);
                  }
                  return;
                }
                case 'lookup':
                  await checkLive(true);
              }
            }),
          );
          await checkLive(false);
          if (pauseMs > 0) await sleep(pauseMs);

          // Every node renews what it believes it holds: of what survives, at most one listener is active.
          await Promise.all(
            nodes.map(async (leases, n) => {
              for (const lost of (await leases.renew([...held[n].values()])).lost) {
                held[n].delete(lost.listenerId);
                seen.lost++;
              }
            }),
          );
          const confirmedActive = held.flatMap((mine) => [...mine.values()]).filter((lease) => lease.state === 'active');
          expect(confirmedActive.length).toBeLessThanOrEqual(1);
          await checkLive(false);
        }
      }),
      { numRuns: 40 },
    );
    // The races above must have exercised every outcome, or they proved nothing.
    expect(seen.admitted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.lost).toBeGreaterThan(0);
  }, 60_000);
});
