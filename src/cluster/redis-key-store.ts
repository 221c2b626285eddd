/**
 * The key store of cluster mode: keys in one Redis that every relay node
 * shares, with the contract of the embedded SQLite store (src/keys/api-key.ts).
 *
 * Layout, under a prefix ("remoted:" unless told):
 *   key:<id>             hash, every field of the key (src/cluster/key-record.ts)
 *   key-digest:<digest>  string, the id of the key whose secret has this SHA-256 (hex)
 *   keys                 sorted set, every id at score 0, so ZRANGEBYLEX lists them in id order
 *   key-changes          stream, one entry per update and revocation: id, keepLinks, origin
 * Every write that touches more than one of them is one Lua script.
 *
 * Plain Redis only (one server, with replicas or Sentinel if wanted): the
 * scripts touch keys of several hash slots, which Redis Cluster refuses.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis, { type RedisOptions } from 'ioredis';
import pino, { type Logger } from 'pino';
import { type ApiKey, type CreateKeyInput, KEY_LIMIT_NAMES, type KeyChange, KeyStoreUnavailableError, type KeyLimits, type KeyStore, type ListKeysQuery, type RevokeOptions, type UpdateKeyInput } from '../keys/api-key';
import { digestsEqual, generateKeyId, generateSecret, hashSecret } from '../keys/key-secret';
import { COMMAND_CONNECTION, connectWithin, errorMessage, quitOrDisconnect, redactedUrl, reportReachability } from './redis-connection';
import { digestText, FIELD, fromFields, type KeyRecord, pairsToFields, type StoredKeyRecord, toFields, updateFields } from './key-record';

const DEFAULT_PREFIX = 'remoted:';
/** Imports write every key in one script, which may run long on a big file: their own connection, with room. */
const IMPORT_TIMEOUT_MS = 60_000;
/**
 * XREAD BLOCK of the change reader. An entry comes back at once whatever this
 * is; the empty answer at the end of each block is the heartbeat of Redis.
 */
const CHANGE_BLOCK_MS = 2000;
/**
 * An XREAD unanswered this long past its block means a frozen Redis or a
 * silent network: both connections are made again (the reader then
 * resynchronises), so that isReady() says so within about
 * CHANGE_BLOCK_MS + CHANGE_SILENCE_GRACE_MS + DISCONNECT_TIMEOUT_MS (redis-connection.ts).
 * (ioredis's own socketTimeout is not used: in 5.11 its timer survives the
 * socket, keeps the process alive after close, and can drop the next socket.)
 */
const CHANGE_SILENCE_GRACE_MS = 1500;
const CHANGES_PER_READ = 500;
/** XADD MAXLEN ~: the stream is a notice board, not a log. A reader that falls further behind resynchronises. */
const CHANGES_MAXLEN = 10_000;
/** Between two attempts of the reader when Redis answers with errors (it waits for the connection otherwise). */
const CHANGE_RETRY_MS = 500;
const DEFAULT_LIST_LIMIT = 1000;
/** Ids read per round trip by list() and by a resynchronisation. */
const ID_BATCH = 500;
/** As in the SQLite store: the keys found by secret, forgotten on any change; misses are not kept. */
const MAX_CACHED_KEYS = 10_000;

export interface RedisKeyStoreOptions {
  /** Put before every Redis key name, so that several relays (or tests) can share one Redis. */
  prefix?: string;
  log?: Logger;
}

/** create() was given a secret another key already has: the SQLite store's UNIQUE constraint, here. */
export class DuplicateSecretError extends Error {
  override name = 'DuplicateSecretError';
  constructor() {
    super('another key already has this secret');
  }
}

/** An imported key's id or secret is already in Redis: nothing of that import was written. */
export class ImportConflictError extends Error {
  override name = 'ImportConflictError';
  constructor(
    readonly id: string,
    readonly taken: 'id' | 'secret',
  ) {
    super(`key ${id} cannot be imported: its ${taken} is already in Redis (nothing was imported)`);
  }
}

interface KeyLayout {
  key(id: string): string;
  digest(digestHex: string): string;
  ids: string;
  changes: string;
}

function keyLayout(prefix: string): KeyLayout {
  return {
    key: (id) => `${prefix}key:${id}`,
    digest: (digestHex) => `${prefix}key-digest:${digestHex}`,
    ids: `${prefix}keys`,
    changes: `${prefix}key-changes`,
  };
}

/**
 * Inserts keys, all or none. KEYS[1] is the id set, then per key its hash and
 * its digest index; ARGV per key is its id, its number of field/value pairs
 * and the pairs. Answers {'ok'} or {'id'|'secret', id} for the first conflict.
 */
const INSERT_KEYS_LUA = `
local records = {}
local at = 1
for k = 1, (#KEYS - 1) / 2 do
  local pairs = tonumber(ARGV[at + 1])
  records[k] = { id = ARGV[at], from = at + 2, to = at + 1 + 2 * pairs }
  at = at + 2 + 2 * pairs
end
for k, record in ipairs(records) do
  if redis.call('EXISTS', KEYS[2 * k]) == 1 then return { 'id', record.id } end
  if redis.call('EXISTS', KEYS[2 * k + 1]) == 1 then return { 'secret', record.id } end
end
for k, record in ipairs(records) do
  for i = record.from, record.to, 2 do redis.call('HSET', KEYS[2 * k], ARGV[i], ARGV[i + 1]) end
  redis.call('SET', KEYS[2 * k + 1], record.id)
  redis.call('ZADD', KEYS[1], 0, record.id)
end
return { 'ok' }
`;

/**
 * The change scripts: the write and its stream entry in one script, so that
 * no node sees the one without the other. KEYS: the hash, the stream. ARGV:
 * id, origin (the writer's instance), stream maxlen, then each script's own.
 * They answer the key's fields after the write, or nil when there is no such key.
 */
const changeScript = (write: string, keepLinks: string): string => `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
${write}
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[1], 'keepLinks', ${keepLinks}, 'origin', ARGV[2])
return redis.call('HGETALL', KEYS[1])
`;

/** ARGV[4]: how many field/value pairs to set; they follow, then the fields to delete. */
const UPDATE_KEY_LUA = changeScript(
  `
local sets = tonumber(ARGV[4])
for i = 5, 4 + 2 * sets, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 5 + 2 * sets, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end`,
  "'0'",
);

/**
 * ARGV[4]: the revocation time (ms), ARGV[5]: '1' to keep links. A repeated
 * revocation keeps the first time; one that cuts links makes the stored
 * choice "cut" for good (src/cluster/key-record.ts, revokeKeepsLinks).
 */
const REVOKE_KEY_LUA = changeScript(
  `
if redis.call('HEXISTS', KEYS[1], '${FIELD.revokedAtMs}') == 0 then
  redis.call('HSET', KEYS[1], '${FIELD.revokedAtMs}', ARGV[4], '${FIELD.revokeKeepsLinks}', ARGV[5])
elseif ARGV[5] == '0' then
  redis.call('HSET', KEYS[1], '${FIELD.revokeKeepsLinks}', '0')
end`,
  'ARGV[5]',
);

interface KeyScripts {
  remotedInsertKeys(numberOfKeys: number, ...keysAndArgs: string[]): Promise<string[]>;
  remotedUpdateKey(hash: string, changes: string, ...args: string[]): Promise<string[] | null>;
  remotedRevokeKey(hash: string, changes: string, ...args: string[]): Promise<string[] | null>;
}
type ScriptedRedis = Redis & KeyScripts;

function withKeyScripts(redis: Redis): ScriptedRedis {
  redis.defineCommand('remotedInsertKeys', { lua: INSERT_KEYS_LUA });
  redis.defineCommand('remotedUpdateKey', { numberOfKeys: 2, lua: UPDATE_KEY_LUA });
  redis.defineCommand('remotedRevokeKey', { numberOfKeys: 2, lua: REVOKE_KEY_LUA });
  // defineCommand adds the methods at run time; ioredis's only typing for them is a global module augmentation.
  return redis as ScriptedRedis;
}


const CHANGE_READER_CONNECTION: RedisOptions = {
  connectionName: 'remoted-key-changes',
  // Its XREAD blocks for CHANGE_BLOCK_MS by design; silence past that is the watchdog's.
  commandTimeout: undefined,
  // A dropped connection fails the pending XREAD at once, and nothing queues while it is down:
  // the reader waits for 'ready' itself, then resynchronises before it reads on.
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
};

export class RedisKeyStore implements KeyStore {
  private readonly bySecretDigest = new Map<string, ApiKey>();
  /** Bumped by every clear: a lookup that began before a change must not cache what it read. */
  private cacheGeneration = 0;
  private readonly changeListeners = new Set<(change: KeyChange) => void>();
  /** In this instance's stream entries, so that its reader skips the changes its listeners heard already. */
  private readonly instanceId = randomUUID();
  private lastChangeId: string;
  /**
   * Set when this instance may have missed changes: its reader reconnected,
   * or one of its own writes failed with an unknown outcome (its entry would
   * be skipped, and its listeners never told).
   */
  private resyncNeeded = false;
  private readonly stopping = new AbortController();
  private closing: Promise<void> | undefined;
  private readonly reading: Promise<void>;

  private constructor(
    private readonly redis: ScriptedRedis,
    private readonly reader: Redis,
    private readonly layout: KeyLayout,
    /** The URL without its password, for messages. */
    private readonly where: string,
    private readonly log: Logger,
    lastChangeId: string,
  ) {
    this.lastChangeId = lastChangeId;
    // Registered after the first 'ready': each one from now on is a reconnection.
    reader.on('ready', () => {
      this.resyncNeeded = true;
    });
    this.reading = this.readChanges();
  }

  /** Connects both connections, or fails after OPEN_TIMEOUT_MS (redis-connection.ts) with an error naming the URL (without its password). */
  static async open(url: string, options: RedisKeyStoreOptions = {}): Promise<RedisKeyStore> {
    const where = redactedUrl(url);
    const log = (options.log ?? pino({ enabled: false })).child({ component: 'redis-key-store', redis: where });
    const redis = new Redis(url, COMMAND_CONNECTION);
    const reader = redis.duplicate(CHANGE_READER_CONNECTION);
    reportReachability(redis, log, 'commands');
    reportReachability(reader, log, 'key-changes');
    try {
      // One after the other: a failed first leaves no deadline of the second running.
      await connectWithin(redis, where);
      await connectWithin(reader, where);
      const layout = keyLayout(options.prefix ?? DEFAULT_PREFIX);
      // Where the reader starts: the stream's newest entry now, which is `$` without the gap between two XREADs.
      const lastChangeId = await latestChangeId(redis, layout);
      return new RedisKeyStore(withKeyScripts(redis), reader, layout, where, log, lastChangeId);
    } catch (err) {
      redis.disconnect();
      reader.disconnect();
      throw err;
    }
  }

  async create(input: CreateKeyInput): Promise<{ key: ApiKey; secret: string }> {
    return this.answered(async () => {
      const secret = input.secret ?? generateSecret();
      const key: ApiKey = {
        id: generateKeyId(),
        role: input.role,
        label: input.label ?? '',
        scopes: [...(input.scopes ?? [])],
        createdAt: new Date(),
        expiresAt: input.expiresAt ?? null,
        revokedAt: null,
        routePolicy: input.routePolicy,
        poolSize: input.poolSize,
        limits: definedLimits(input.limits),
      };
      const conflict = await this.insert(this.redis, [{ key, secretDigest: hashSecret(secret) }]);
      if (conflict?.taken === 'secret') throw new DuplicateSecretError();
      // 96 random bits make this a broken generator, not bad luck.
      if (conflict) throw new Error(`generated key id ${key.id} is taken`);
      return { key, secret };
    });
  }

  async findBySecret(secret: string): Promise<ApiKey | undefined> {
    return this.answered(async () => {
      const digest = hashSecret(secret);
      const digestHex = digestText(digest);
      const cached = this.bySecretDigest.get(digestHex);
      if (cached) return cached;
      const generation = this.cacheGeneration;
      const id = await this.redis.get(this.layout.digest(digestHex));
      if (id === null) return undefined;
      const record = await this.read(id);
      if (!record || !digestsEqual(record.secretDigest, digest)) return undefined;
      if (generation === this.cacheGeneration) {
        if (this.bySecretDigest.size >= MAX_CACHED_KEYS) this.bySecretDigest.clear();
        this.bySecretDigest.set(digestHex, record.key);
      }
      return record.key;
    });
  }

  async get(id: string): Promise<ApiKey | undefined> {
    return this.answered(async () => {
      return (await this.read(id))?.key;
    });
  }

  async list(query: ListKeysQuery = {}): Promise<ApiKey[]> {
    return this.answered(async () => {
      const limit = query.limit ?? DEFAULT_LIST_LIMIT;
      const keys: ApiKey[] = [];
      let afterId = query.afterId || undefined;
      while (keys.length < limit) {
        const ids = await this.idsAfter(afterId);
        for (const record of await this.readAll(ids)) {
          if (!record || (query.role && record.key.role !== query.role)) continue;
          if (!query.includeRevoked && record.key.revokedAt !== null) continue;
          keys.push(record.key);
          if (keys.length === limit) break;
        }
        if (ids.length < ID_BATCH) break;
        afterId = ids[ids.length - 1];
      }
      return keys;
    });
  }

  async update(id: string, input: UpdateKeyInput): Promise<ApiKey | undefined> {
    return this.answered(async () => {
      const { set, clear } = updateFields(input);
      const pairs = Object.entries(set).flat();
      const fields = await this.changeWrite(() =>
        this.redis.remotedUpdateKey(this.layout.key(id), this.layout.changes, id, this.instanceId, String(CHANGES_MAXLEN), String(pairs.length / 2), ...pairs, ...clear),
      );
      return this.changed(id, fields, false);
    });
  }

  async revoke(id: string, options: RevokeOptions = {}): Promise<ApiKey | undefined> {
    return this.answered(async () => {
      const keepLinks = options.keepLinks === true;
      const fields = await this.changeWrite(() =>
        this.redis.remotedRevokeKey(this.layout.key(id), this.layout.changes, id, this.instanceId, String(CHANGES_MAXLEN), String(Date.now()), keepLinks ? '1' : '0'),
      );
      return this.changed(id, fields, keepLinks);
    });
  }

  onChange(listener: (change: KeyChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  async count(): Promise<number> {
    return this.answered(() => this.redis.zcard(this.layout.ids));
  }

  /**
   * Writes keys that exist elsewhere (a SQLite file), ids and digests as they
   * are: all of them, or none when any id or secret is taken (in Redis or
   * twice in `records`), which throws ImportConflictError.
   */
  async importRecords(records: readonly KeyRecord[]): Promise<void> {
    const ids = new Set<string>();
    const digests = new Set<string>();
    for (const { key, secretDigest } of records) {
      if (ids.has(key.id)) throw new ImportConflictError(key.id, 'id');
      const digestHex = digestText(secretDigest);
      if (digests.has(digestHex)) throw new ImportConflictError(key.id, 'secret');
      ids.add(key.id);
      digests.add(digestHex);
    }
    if (records.length === 0) return;
    const importer = this.redis.duplicate({ connectionName: 'remoted-key-import', commandTimeout: IMPORT_TIMEOUT_MS });
    reportReachability(importer, this.log, 'import');
    try {
      await connectWithin(importer, this.where);
      const conflict = await this.insert(withKeyScripts(importer), records);
      if (conflict) throw new ImportConflictError(conflict.id, conflict.taken);
    } finally {
      await quitOrDisconnect(importer);
    }
  }

  /** One key: see importRecords. */
  importKey(record: KeyRecord): Promise<void> {
    return this.importRecords([record]);
  }

  /**
   * Whether both connections are up (KeyStore.isReady, what /readyz reports).
   * The reader's XREAD is the heartbeat: it answers every CHANGE_BLOCK_MS, and
   * a Redis that stops answering has both connections made again (reconnectSilent).
   * A node that cannot hear revocations should take no new traffic.
   */
  isReady(): boolean {
    return this.redis.status === 'ready' && this.reader.status === 'ready';
  }

  /** Idempotent. The reader is disconnected (its XREAD blocks, a QUIT would wait behind it); the command connection quits. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.stopping.abort();
    this.reader.disconnect();
    await this.reading;
    await quitOrDisconnect(this.redis);
  }

  /**
   * Runs a call of the KeyStore contract: a failure of Redis itself (a timeout,
   * a closed connection) becomes KeyStoreUnavailableError, which the relay
   * answers as "try again" rather than as a wrong key; the store's own errors
   * (a duplicate secret, a bad value) pass as they are.
   */
  private async answered<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof DuplicateSecretError || err instanceof RangeError || err instanceof KeyStoreUnavailableError) throw err;
      throw new KeyStoreUnavailableError(`Redis at ${this.where} did not answer: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private get isClosed(): boolean {
    return this.stopping.signal.aborted;
  }

  private async insert(redis: ScriptedRedis, records: readonly KeyRecord[]): Promise<{ id: string; taken: 'id' | 'secret' } | undefined> {
    const keys = [this.layout.ids];
    const args: string[] = [];
    for (const record of records) {
      const pairs = Object.entries(toFields(record)).flat();
      keys.push(this.layout.key(record.key.id), this.layout.digest(digestText(record.secretDigest)));
      args.push(record.key.id, String(pairs.length / 2), ...pairs);
    }
    const [outcome, id] = await redis.remotedInsertKeys(keys.length, ...keys, ...args);
    if (outcome === 'ok') return undefined;
    if ((outcome === 'id' || outcome === 'secret') && id !== undefined) return { id, taken: outcome };
    throw new Error(`unexpected answer from the key insert script: ${String(outcome)}`);
  }

  /** Runs an update or revoke script; any failure may have written (the answer was lost), so the reader resynchronises. */
  private async changeWrite(write: () => Promise<string[] | null>): Promise<string[] | null> {
    try {
      return await write();
    } catch (err) {
      this.resyncNeeded = true;
      throw err;
    } finally {
      this.clearCache();
    }
  }

  /** The writer's side of a change: its listeners hear it before the write resolves (the KeyStore contract). */
  private changed(id: string, fields: string[] | null, keepLinks: boolean): ApiKey | undefined {
    const record = fields && fromFields(id, pairsToFields(fields));
    if (!record) return undefined;
    for (const listener of this.changeListeners) listener({ key: record.key, keepLinks });
    return record.key;
  }

  private clearCache(): void {
    this.bySecretDigest.clear();
    this.cacheGeneration++;
  }

  private async read(id: string): Promise<StoredKeyRecord | undefined> {
    return fromFields(id, await this.redis.hgetall(this.layout.key(id)));
  }

  private async readAll(ids: readonly string[]): Promise<Array<StoredKeyRecord | undefined>> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.layout.key(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, fields], i) => {
      if (err) throw err;
      if (!isStringRecord(fields)) throw new Error(`HGETALL of key ${ids[i]} answered ${typeof fields}`);
      return fromFields(ids[i], fields);
    });
  }

  private idsAfter(afterId: string | undefined): Promise<string[]> {
    return this.redis.zrangebylex(this.layout.ids, afterId === undefined ? '-' : `(${afterId}`, '+', 'LIMIT', 0, ID_BATCH);
  }

  /** The reader: one loop for the life of the store, on its own connection. */
  private async readChanges(): Promise<void> {
    let failing = false;
    while (!this.isClosed) {
      try {
        if (this.resyncNeeded) await this.resync();
        else await this.readChangeBatch();
        failing = false;
      } catch (err) {
        if (this.isClosed) return;
        if (!failing) this.log.warn({ err: errorMessage(err) }, 'key changes: reading failed; retrying when Redis answers');
        failing = true;
        await this.pause(CHANGE_RETRY_MS);
        await this.readerReady();
      }
    }
  }

  private async readChangeBatch(): Promise<void> {
    const entries = await this.readChangeEntries();
    if (entries.length === 0) return;
    // Several entries of one key in a batch make one call, with the key as it is now.
    const changedIds = new Set<string>();
    for (const [, flat] of entries) {
      const entry = pairsToFields(flat);
      if (entry.origin !== this.instanceId && entry.id) changedIds.add(entry.id);
    }
    const lastId = entries[entries.length - 1][0];
    if (changedIds.size === 0) {
      this.lastChangeId = lastId;
      return;
    }
    this.clearCache();
    let records: Array<StoredKeyRecord | undefined>;
    try {
      records = await this.readAll([...changedIds]);
    } catch (err) {
      // The cache is clear, but listeners have not heard: a resynchronisation tells them everything.
      this.resyncNeeded = true;
      throw err;
    }
    this.lastChangeId = lastId;
    for (const record of records) if (record) this.notify(record);
  }

  /** The entries after the last one seen: none when the block ended quietly. */
  private async readChangeEntries(): Promise<Array<[id: string, fields: string[]]>> {
    const watchdog = setTimeout(() => this.reconnectSilent(), CHANGE_BLOCK_MS + CHANGE_SILENCE_GRACE_MS);
    try {
      const reply = await this.reader.xread('COUNT', CHANGES_PER_READ, 'BLOCK', CHANGE_BLOCK_MS, 'STREAMS', this.layout.changes, this.lastChangeId);
      return reply?.[0]?.[1] ?? [];
    } finally {
      clearTimeout(watchdog);
    }
  }

  /**
   * Redis let an XREAD outlive its block. The reader's pending XREAD fails
   * as its connection closes, and the loop resynchronises once it is back;
   * the command connection is made again too, since its commands wait on the
   * same silent Redis and it would otherwise look ready.
   */
  private reconnectSilent(): void {
    this.log.warn({ silentMs: CHANGE_BLOCK_MS + CHANGE_SILENCE_GRACE_MS }, 'Redis stopped answering; reconnecting');
    this.reader.disconnect(true);
    this.redis.disconnect(true);
  }

  /**
   * After the reader was away, entries may be gone (trimmed, or a Redis that
   * restarted empty): forget every cached key and tell the listeners of every
   * key as it is, so that nothing a revoked key holds survives. The stream's
   * newest id is taken first: whatever follows it, the reader reads next.
   */
  private async resync(): Promise<void> {
    this.resyncNeeded = false;
    try {
      const lastId = await latestChangeId(this.redis, this.layout);
      this.clearCache();
      let keys = 0;
      for (let afterId: string | undefined; ; ) {
        const ids = await this.idsAfter(afterId);
        for (const record of await this.readAll(ids)) {
          if (!record) continue;
          this.notify(record);
          keys++;
        }
        if (ids.length < ID_BATCH) break;
        afterId = ids[ids.length - 1];
      }
      this.lastChangeId = lastId;
      this.log.info({ keys }, 'key changes: resynchronised after the reader reconnected');
    } catch (err) {
      this.resyncNeeded = true;
      throw err;
    }
  }

  /** A change heard from the stream: what its revocations asked for links is in the record. */
  private notify(record: StoredKeyRecord): void {
    if (this.isClosed) return;
    const change: KeyChange = { key: record.key, keepLinks: record.key.revokedAt !== null && record.revokeKeepsLinks };
    for (const listener of this.changeListeners) {
      try {
        listener(change);
      } catch (err) {
        // No caller to reject: the reader must go on for the other keys and listeners.
        this.log.error({ err, keyId: record.key.id }, 'a key change listener threw');
      }
    }
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.stopping.signal });
    } catch (err) {
      if (!this.isClosed) throw err;
    }
  }

  /** Resolves when the reader's connection is ready again, or the store closes. */
  private readerReady(): Promise<void> {
    if (this.reader.status === 'ready' || this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.reader.off('ready', done);
        this.stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      this.reader.on('ready', done);
      this.stopping.signal.addEventListener('abort', done);
    });
  }
}

async function latestChangeId(redis: Redis, layout: KeyLayout): Promise<string> {
  const [newest] = await redis.xrevrange(layout.changes, '+', '-', 'COUNT', 1);
  return newest?.[0] ?? '0-0';
}





/** The caps given, without undefined ones: the key as the SQLite store would read it back. */
function definedLimits(limits: KeyLimits | undefined): KeyLimits {
  const defined: KeyLimits = {};
  for (const name of KEY_LIMIT_NAMES) {
    const value = limits?.[name];
    if (value !== undefined) defined[name] = value;
  }
  return defined;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((field) => typeof field === 'string');
}

