/**
 * RedisKeyStore on a real redis-server: the SQLite store's contract, then
 * what sharing adds (two stores on one Redis, as two relay nodes), then
 * Redis going away and coming back, then moving a SQLite file into Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { ID_ALPHABET } from '@remoted/sdk/protocol';
import { importKeys } from '../../src/cluster/import-keys';
import { FIELD } from '../../src/cluster/key-record';
import { DuplicateSecretError, ImportConflictError, RedisKeyStore } from '../../src/cluster/redis-key-store';
import type { ApiKey, KeyChange, KeyStore } from '../../src/keys/api-key';
import { bootstrapKeys } from '../../src/keys/bootstrap-keys';
import { KeyAuthenticator } from '../../src/keys/key-authenticator';
import { hashSecret } from '../../src/keys/key-secret';
import { SqliteKeyStore } from '../../src/keys/sqlite-key-store';
import { type RunningRedis, startRedis } from '../helpers/redis-server';
import { waitFor } from '../helpers/wait-for';
import { freePort } from '../helpers/free-port';

/** Another node's revocation must reach this one's listeners within this. */
const CHANGE_DEADLINE_MS = 1000;

let prefixes = 0;
/** Each test's keys under a prefix of their own, so tests on one server never see each other's. */
const freshPrefix = (): string => `test-${process.pid}-${++prefixes}:`;

interface Heard {
  changes: Array<{ change: KeyChange; atMs: number }>;
  /** Resolves with the first change (heard already or to come) that matches; rejects after timeoutMs. */
  change(matches: (change: KeyChange) => boolean, timeoutMs?: number): Promise<{ change: KeyChange; atMs: number }>;
}

function heard(store: KeyStore): Heard {
  const changes: Heard['changes'] = [];
  store.onChange((change) => changes.push({ change, atMs: Date.now() }));
  return {
    changes,
    async change(matches, timeoutMs = 3000) {
      let found: Heard['changes'][number] | undefined;
      await waitFor(() => (found = changes.find((entry) => matches(entry.change))) !== undefined, 'a matching key change', timeoutMs, 5);
      return found!;
    },
  };
}

const revokedKey = (id: string) => (change: KeyChange) => change.key.id === id && change.key.revokedAt !== null;

describe('RedisKeyStore', () => {
  let redis: RunningRedis;
  let raw: Redis;
  let prefix: string;
  const stores: RedisKeyStore[] = [];
  const open = async (): Promise<RedisKeyStore> => {
    const store = await RedisKeyStore.open(redis.url, { prefix });
    stores.push(store);
    return store;
  };

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
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  describe('the SQLite store\'s contract', () => {
    it('stores a digest of the secret, never the secret, in the documented layout', async () => {
      const store = await open();
      const { key, secret } = await store.create({ role: 'server', label: 'db', scopes: ['/db/*'] });
      expect(secret).toHaveLength(64);
      expect([...secret].every((c) => ID_ALPHABET.includes(c))).toBe(true);

      const digestHex = hashSecret(secret).toString('hex');
      expect(await raw.hget(`${prefix}key:${key.id}`, FIELD.digest)).toBe(digestHex);
      expect(await raw.get(`${prefix}key-digest:${digestHex}`)).toBe(key.id);
      expect(await raw.zrange(`${prefix}keys`, 0, -1, 'WITHSCORES')).toEqual([key.id, '0']);
      const names = await raw.keys(`${prefix}*`);
      const values = await Promise.all(names.map(async (name) => JSON.stringify(await valueOf(raw, name))));
      expect(values.some((value) => value.includes(secret))).toBe(false);

      const reopened = await open();
      expect(await reopened.findBySecret(secret)).toEqual(key);
      expect(await reopened.findBySecret(secret.slice(0, 63))).toBeUndefined();
      expect(await reopened.get(key.id)).toEqual(key);
      expect(await reopened.get('key_missing')).toBeUndefined();
    });

    it('lists, updates and revokes', async () => {
      const store = await open();
      const a = await store.create({ role: 'client', label: 'a' });
      const b = await store.create({ role: 'server', label: 'b' });
      expect((await store.list()).map((k) => k.id)).toEqual([a.key.id, b.key.id].sort());
      expect(await store.list({ role: 'server' })).toEqual([b.key]);
      expect(await store.update(a.key.id, { label: 'renamed', scopes: ['/x'] })).toMatchObject({ label: 'renamed', scopes: ['/x'] });
      const revoked = await store.revoke(a.key.id);
      expect(revoked?.revokedAt).toBeInstanceOf(Date);
      expect((await store.list()).map((k) => k.id)).toEqual([b.key.id]);
      expect(await store.list({ includeRevoked: true })).toHaveLength(2);
      expect(await store.revoke('key_missing')).toBeUndefined();
      expect(await store.update('key_missing', { label: 'x' })).toBeUndefined();
      expect(await store.count()).toBe(2);
    });

    it('keeps the first revocation time when revoked again, and tells listeners each time', async () => {
      const store = await open();
      const changes = heard(store);
      const { key } = await store.create({ role: 'client' });
      const first = await store.revoke(key.id, { keepLinks: true });
      const again = await store.revoke(key.id);
      expect(again?.revokedAt).toEqual(first?.revokedAt);
      expect(changes.changes.map(({ change }) => change.keepLinks)).toEqual([true, false]);
    });

    it('sets the server-key attributes and caps, and sets them back to the relay\'s defaults with null', async () => {
      const store = await open();
      const { key } = await store.create({ role: 'server', routePolicy: 'pool', poolSize: 4, limits: { maxRoutes: 2, maxSpares: 0 } });
      expect(key).toMatchObject({ routePolicy: 'pool', poolSize: 4, limits: { maxRoutes: 2, maxSpares: 0 } });
      expect(await store.get(key.id)).toEqual(key);
      const updated = await store.update(key.id, { routePolicy: 'takeover', limits: { maxRoutes: null, maxLinks: 7 } });
      expect(updated).toMatchObject({ routePolicy: 'takeover', poolSize: 4, limits: { maxSpares: 0, maxLinks: 7 } });
      expect(updated?.limits.maxRoutes).toBeUndefined();
      const defaults = await store.update(key.id, { routePolicy: null, poolSize: null, limits: { maxSpares: null, maxLinks: null } });
      expect(defaults).toMatchObject({ routePolicy: undefined, poolSize: undefined, limits: {} });
      expect(await store.get(key.id)).toEqual(defaults);
      await expect(store.update(key.id, { poolSize: 0 })).rejects.toThrow(RangeError);
    });

    it('pages in id order by afterId, with role and revocation filters, across more keys than one round trip reads', async () => {
      const store = await open();
      const made: ApiKey[] = [];
      for (let i = 0; i < 620; i++) made.push((await store.create({ role: i % 3 === 0 ? 'server' : 'client' })).key);
      for (const key of made.filter((_, i) => i % 5 === 0)) await store.revoke(key.id);
      const ids = made.map((key) => key.id).sort();
      const usable = made.filter((_, i) => i % 5 !== 0).map((key) => key.id).sort();
      const servers = made.filter((key, i) => key.role === 'server' && i % 5 !== 0).map((key) => key.id).sort();

      expect(await store.count()).toBe(620);
      expect((await store.list()).map((key) => key.id)).toEqual(usable);
      expect((await store.list({ includeRevoked: true, limit: 2 })).map((key) => key.id)).toEqual(ids.slice(0, 2));
      expect((await store.list({ includeRevoked: true, afterId: ids[1], limit: 2 })).map((key) => key.id)).toEqual(ids.slice(2, 4));
      expect((await store.list({ includeRevoked: true, afterId: ids[618] })).map((key) => key.id)).toEqual([ids[619]]);
      expect(await store.list({ includeRevoked: true, afterId: ids[619] })).toEqual([]);
      expect((await store.list({ role: 'server' })).map((key) => key.id)).toEqual(servers);
      expect((await store.list({ role: 'server', afterId: servers[99], limit: 10 })).map((key) => key.id)).toEqual(servers.slice(100, 110));
      expect(await store.list({ includeRevoked: true, limit: 550 })).toHaveLength(550);
    });

    it('sees an update or a revocation on the very next lookup of a key it has looked up before', async () => {
      const store = await open();
      const { key, secret } = await store.create({ role: 'client', scopes: ['/a'] });
      expect(await store.findBySecret(secret)).toMatchObject({ id: key.id, scopes: ['/a'] });
      await store.update(key.id, { scopes: ['/b'] });
      expect(await store.findBySecret(secret)).toMatchObject({ scopes: ['/b'] });
      await store.revoke(key.id);
      expect((await store.findBySecret(secret))?.revokedAt).toBeInstanceOf(Date);
    });

    it('refuses a second key with the same secret, and writes nothing of it', async () => {
      const store = await open();
      const secret = 's'.repeat(64);
      const { key } = await store.create({ role: 'server', secret });
      await expect(store.create({ role: 'client', secret })).rejects.toThrow(DuplicateSecretError);
      expect(await store.count()).toBe(1);
      expect(await store.findBySecret(secret)).toEqual(key);
    });

    it('refuses to store an expiry that is not a valid date, rather than store none', async () => {
      const store = await open();
      await expect(store.create({ role: 'client', expiresAt: new Date(Number.NaN) })).rejects.toThrow(RangeError);
      expect(await store.count()).toBe(0);
    });

    it('authenticates only usable keys in scope, and bootstraps keys once', async () => {
      const store = await open();
      const auth = new KeyAuthenticator(store);
      const scoped = await store.create({ role: 'client', scopes: ['/db/*'] });
      const expired = await store.create({ role: 'client', expiresAt: new Date(Date.now() - 1) });
      expect(await auth.authenticate(scoped.secret, '/db/x')).toMatchObject({ id: scoped.key.id });
      expect(await auth.authenticate(scoped.secret, '/web')).toBeUndefined();
      expect(await auth.authenticate(expired.secret, '/db/x')).toBeUndefined();

      const empty = await RedisKeyStore.open(redis.url, { prefix: freshPrefix() });
      stores.push(empty);
      expect((await bootstrapKeys(empty, {})).map((generated) => generated.role)).toEqual(['server', 'client', 'admin']);
      expect(await bootstrapKeys(empty, {})).toEqual([]);
      expect(await empty.count()).toBe(3);
    });

    it('closes idempotently, and then reports not ready', async () => {
      const store = await open();
      expect(store.isReady()).toBe(true);
      await Promise.all([store.close(), store.close()]);
      await store.close();
      expect(store.isReady()).toBe(false);
    });

    it('fails to open within a few seconds when Redis is not there, naming the URL without its password', async () => {
      // Nothing listens there: free a moment ago.
      const port = await freePort();
      const started = Date.now();
      const failure = await RedisKeyStore.open(`redis://:hunter2@127.0.0.1:${port}`).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(Date.now() - started).toBeLessThan(7000);
      expect(failure?.message).toContain(`127.0.0.1:${port}`);
      expect(failure?.message).not.toContain('hunter2');
    }, 15_000);
  });

  describe('two stores on one Redis, as two nodes', () => {
    it('finds a key made on A through B at once', async () => {
      const [a, b] = [await open(), await open()];
      const { key, secret } = await a.create({ role: 'client', scopes: ['/x'] });
      expect(await b.findBySecret(secret)).toEqual(key);
      expect(await b.list()).toEqual([key]);
    });

    it('tells A\'s listeners of a revocation on B in well under a second, and A then finds the key revoked, not as it cached it', async () => {
      const [a, b] = [await open(), await open()];
      const aHeard = heard(a);
      const { key, secret } = await a.create({ role: 'server' });
      expect((await a.findBySecret(secret))?.revokedAt).toBeNull();

      const started = Date.now();
      await b.revoke(key.id, { keepLinks: true });
      const { change, atMs } = await aHeard.change(revokedKey(key.id), CHANGE_DEADLINE_MS);
      expect(atMs - started).toBeLessThan(CHANGE_DEADLINE_MS);
      expect(change.keepLinks).toBe(true);
      expect((await a.findBySecret(secret))?.revokedAt).toBeInstanceOf(Date);
    });

    it('calls the writer\'s listeners before update() resolves, once, and the other node\'s once', async () => {
      const [a, b] = [await open(), await open()];
      const { key } = await a.create({ role: 'client' });
      const bHeard = heard(b);
      let resolved = false;
      const resolvedWhenHeard: boolean[] = [];
      a.onChange(() => resolvedWhenHeard.push(resolved));
      await a.update(key.id, { label: 'renamed' }).then(() => (resolved = true));
      expect(resolvedWhenHeard).toEqual([false]);

      // B hearing it means the stream entry was read; A's reader has had it too, and skipped it.
      expect((await bHeard.change((change) => change.key.label === 'renamed', CHANGE_DEADLINE_MS)).change.key.id).toBe(key.id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(resolvedWhenHeard).toEqual([false]);
      expect(bHeard.changes).toHaveLength(1);
    });

    it('after its reader was cut off, forgets its cache and tells its listeners of every key, so a change it missed still applies', async () => {
      const a = await open();
      const aHeard = heard(a);
      const missed = await a.create({ role: 'client' });
      const other = await a.create({ role: 'server' });
      expect((await a.findBySecret(missed.secret))?.revokedAt).toBeNull();

      // A revocation whose stream entry A never reads (as if trimmed while A was away), then A's reader dropped.
      await raw.hset(`${prefix}key:${missed.key.id}`, FIELD.revokedAtMs, String(Date.now()), FIELD.revokeKeepsLinks, '0');
      await killClients(raw, 'remoted-key-changes');

      const { change } = await aHeard.change(revokedKey(missed.key.id), 5000);
      expect(change.keepLinks).toBe(false);
      await aHeard.change((heardChange) => heardChange.key.id === other.key.id);
      expect((await a.findBySecret(missed.secret))?.revokedAt).toBeInstanceOf(Date);
      await waitFor(() => a.isReady(), 'A ready again', 5000);
    });
  });
});

describe('RedisKeyStore when Redis goes away', () => {
  let redis: RunningRedis;
  const stores: RedisKeyStore[] = [];
  /** Two nodes on one Redis and one prefix. */
  const openNodes = async (): Promise<[RedisKeyStore, RedisKeyStore]> => {
    const prefix = freshPrefix();
    const nodes: [RedisKeyStore, RedisKeyStore] = [await RedisKeyStore.open(redis.url, { prefix }), await RedisKeyStore.open(redis.url, { prefix })];
    stores.push(...nodes);
    return nodes;
  };

  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    redis?.resume();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await redis?.stop();
  });

  it('answers cached keys while Redis is frozen, rejects an uncached lookup within seconds, is not ready, and hears changes again once it is back', async () => {
    const [a, b] = await openNodes();
    const aHeard = heard(a);
    const cached = await b.create({ role: 'server' });
    const uncached = await b.create({ role: 'client' });
    expect(await a.findBySecret(cached.secret)).toEqual(cached.key);

    redis.pause();
    expect(await a.findBySecret(cached.secret)).toEqual(cached.key);
    const started = Date.now();
    await expect(a.findBySecret(uncached.secret)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3000);
    await waitFor(() => !a.isReady(), 'A not ready while Redis is frozen', 6000);
    expect(await a.findBySecret(cached.secret)).toEqual(cached.key);

    redis.resume();
    await waitFor(() => a.isReady() && b.isReady(), 'both ready again', 10_000);
    expect(await a.findBySecret(uncached.secret)).toEqual(uncached.key);
    const revokedAt = Date.now();
    await b.revoke(cached.key.id);
    const { atMs } = await aHeard.change(revokedKey(cached.key.id), CHANGE_DEADLINE_MS);
    expect(atMs - revokedAt).toBeLessThan(CHANGE_DEADLINE_MS);
    expect((await a.findBySecret(cached.secret))?.revokedAt).toBeInstanceOf(Date);
  }, 30_000);

  it('reconnects after Redis restarts (keeping its data), and changes flow again', async () => {
    const [a, b] = await openNodes();
    const aHeard = heard(a);
    const { key, secret } = await b.create({ role: 'client' });

    await redis.restart();
    await waitFor(() => a.isReady() && b.isReady(), 'both ready after the restart', 10_000);
    expect(await a.findBySecret(secret)).toEqual(key);
    const revokedAt = Date.now();
    await b.revoke(key.id);
    const { atMs } = await aHeard.change(revokedKey(key.id), CHANGE_DEADLINE_MS);
    expect(atMs - revokedAt).toBeLessThan(CHANGE_DEADLINE_MS);
  }, 30_000);
});

describe('importKeys', () => {
  let redis: RunningRedis;
  let dir: string;
  const stores: RedisKeyStore[] = [];
  const open = async (): Promise<RedisKeyStore> => {
    const store = await RedisKeyStore.open(redis.url, { prefix: freshPrefix() });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'remoted-import-'));
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A key file made by the SQLite store itself, closed; its keys as that store lists them, and their secrets. */
  async function keyFile(name: string, make: (sqlite: SqliteKeyStore) => Promise<string[]>): Promise<{ file: string; keys: ApiKey[]; secrets: string[] }> {
    const file = join(dir, name, 'remoted.sqlite');
    const sqlite = new SqliteKeyStore(file);
    const secrets = await make(sqlite);
    const keys = await sqlite.list({ includeRevoked: true });
    await sqlite.close();
    return { file, keys, secrets };
  }

  it('imports every key of a SQLite file, ids and secrets kept, revoked ones revoked', async () => {
    const { file, keys, secrets } = await keyFile('single', async (sqlite) => {
      const server = await sqlite.create({ role: 'server', label: 'db', scopes: ['/db/*'], routePolicy: 'pool', poolSize: 3, limits: { maxRoutes: 2 } });
      const client = await sqlite.create({ role: 'client', expiresAt: new Date(Date.now() + 3_600_000), limits: { maxLinks: 0 } });
      const admin = await sqlite.create({ role: 'admin' });
      await sqlite.revoke(admin.key.id);
      return [server.secret, client.secret, admin.secret];
    });
    const store = await open();
    expect(await importKeys(file, store)).toEqual({ imported: 3 });
    expect(await store.list({ includeRevoked: true })).toEqual(keys);
    for (const secret of secrets) {
      const key = await store.findBySecret(secret);
      expect(key).toEqual(keys.find((k) => k.id === key?.id));
    }
    expect((await store.findBySecret(secrets[2]))?.revokedAt).toBeInstanceOf(Date);
    expect(await new KeyAuthenticator(store).authenticate(secrets[0], '/db/x')).toMatchObject({ role: 'server', poolSize: 3 });
  });

  it('imports nothing when any key\'s id or secret is already in Redis', async () => {
    const store = await open();
    const first = await keyFile('first', async (sqlite) => [(await sqlite.create({ role: 'server' })).secret]);
    await importKeys(first.file, store);
    const again = await importKeys(first.file, store).catch((err: unknown) => err);
    expect(again).toBeInstanceOf(ImportConflictError);
    expect(again).toMatchObject({ id: first.keys[0].id, taken: 'id' });

    const taken = 't'.repeat(64);
    await store.create({ role: 'client', secret: taken });
    const second = await keyFile('second', async (sqlite) => {
      const fresh = await sqlite.create({ role: 'client' });
      await sqlite.create({ role: 'client', secret: taken });
      return [fresh.secret];
    });
    const conflict = await importKeys(second.file, store).catch((err: unknown) => err);
    expect(conflict).toBeInstanceOf(ImportConflictError);
    expect(conflict).toMatchObject({ taken: 'secret' });
    expect(second.keys.map((key) => key.id)).toContain((conflict as ImportConflictError).id);
    expect(await store.count()).toBe(2);
    expect(await store.findBySecret(second.secrets[0])).toBeUndefined();
  });
});

/** Everything a Redis key holds, whatever its type. */
async function valueOf(redis: Redis, name: string): Promise<unknown> {
  switch (await redis.type(name)) {
    case 'hash':
      return redis.hgetall(name);
    case 'zset':
      return redis.zrange(name, 0, -1);
    case 'stream':
      return redis.xrange(name, '-', '+');
    default:
      return redis.get(name);
  }
}

/** Drops every connection with this client name (CLIENT KILL has no filter by name). */
async function killClients(redis: Redis, name: string): Promise<void> {
  const list = await redis.client('LIST');
  const ids = String(list)
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /^id=(\d+)/.exec(line)?.[1]);
  expect(ids.length).toBeGreaterThan(0);
  for (const id of ids) if (id) await redis.client('KILL', 'ID', id);
}

