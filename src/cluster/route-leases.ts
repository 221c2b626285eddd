/**
 * Route leases of cluster mode: who listens on which path, across every node,
 * so that the route policies (src/relay/routes/route-admission.ts) hold
 * cluster-wide and not only per node.
 *
 * Every listener holds a lease in Redis that its node renews while it lives;
 * a node that dies frees its listeners when their leases run out. Every
 * decision is one Lua script, run atomically by Redis with Redis's own clock
 * (TIME), so two nodes can never both be admitted to an exclusive path and a
 * node's clock, however wrong, never decides whether a lease ran out.
 *
 * Layout, under a prefix ("remoted:" unless told):
 *   route:<path>           hash, one field per listener on the path (field = listener id)
 *   route#<sha256 hex>     the same, for a path that cannot be spelled as a key (see routeLeaseKey)
 * Each value is `<expiresAtMs>|<a|d>|<nodeId>|<keyId>` (a: active,
 * d: draining; expiresAtMs on Redis's clock). The hash is PEXPIREd to its
 * latest lease, so a path nobody renews vanishes by itself.
 *
 * What this does not do: a node cut off from Redis cannot hear that it lost
 * its leases. Its caller must close its listeners once leaseMs has passed
 * (on its own clock, from the moment it sent its last renew that succeeded),
 * because by then another node may hold the path.
 *
 * Plain Redis only (one server, with replicas or Sentinel if wanted): renew
 * touches the hashes of many paths in one script, which Redis Cluster refuses.
 */
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { isRoutePolicy, type RoutePolicy } from '../keys/route-policy';

const DEFAULT_PREFIX = 'remoted:';
/**
 * Leases renewed per script call. A script blocks Redis while it runs: this
 * keeps each one to a few milliseconds (about 2 ms on a busy 2-core test
 * host), and the calls of one renew are sent together without waiting for
 * each other, so thousands of listeners still cost about one round trip.
 */
const RENEW_BATCH = 250;
/** A longer path is hashed: a key name need not grow with whatever a client sends. */
const MAX_READABLE_PATH_LENGTH = 512;
/** The shortest lease accepted: anything shorter than a round trip or two would expire as it is renewed. */
const MIN_LEASE_MS = 50;

/** As a listener's state in the relay (src/relay/routes/listener-table.ts): a draining listener gets no new dials. */
export type LeaseState = 'active' | 'draining';

export interface RouteLeasesOptions {
  /** The caller's connection: it connects, configures and closes it. */
  redis: Redis;
  /** This node's id (REMOTED_NODE_ID): stored in every lease this node takes. */
  nodeId: string;
  /** How long a lease lasts without a renew (the default in cluster mode is 10 s). */
  leaseMs: number;
  /** Put before every Redis key name, so that several relays (or tests) can share one Redis. */
  prefix?: string;
}

export interface RouteClaim {
  path: string;
  listenerId: string;
  keyId: string;
  policy: RoutePolicy;
  poolSize: number;
}

/** A listener somewhere in the cluster. */
export interface LeaseHolder {
  nodeId: string;
  listenerId: string;
}

export type ClaimResult = { admitted: true; replaces: LeaseHolder[] } | { admitted: false; message: string };

/** A lease this node holds, with the state its listener is in now. */
export interface HeldLease {
  path: string;
  listenerId: string;
  state: LeaseState;
}

export interface LostLease {
  path: string;
  listenerId: string;
}

export interface RenewResult {
  /** Leases that are gone (expired, taken over, or never this node's): their listeners must be closed. */
  lost: LostLease[];
}

export interface RouteLease {
  nodeId: string;
  listenerId: string;
  keyId: string;
  state: LeaseState;
}

/**
 * The helpers every script starts with. decode answers nil for a value that
 * is not a lease (written by something else, or by a later version), which
 * each script then treats as no lease at all. Numbers are formatted with
 * %.0f: Lua's tostring would turn a large millisecond count into 1.7e+12.
 */
const LUA_HELPERS = `
local function decode(value)
  if type(value) ~= 'string' then return nil end
  local expires, state, node, key = string.match(value, '^(%d+)|([ad])|([^|]+)|(.+)$')
  if expires == nil then return nil end
  return { expires = tonumber(expires), state = state, node = node, key = key }
end
local function encode(expires, state, node, key)
  return string.format('%.0f', expires) .. '|' .. state .. '|' .. node .. '|' .. key
end
local function nowMs()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`;

/**
 * KEYS[1]: the path's hash. ARGV: node id, lease (ms), listener id, key id,
 * policy, pool size. Drops expired and unreadable entries, then decides as
 * admitListener does, leaving the claimant's own entry (a retry's) out.
 * Answers {'ok', node, listener, ...} with the replaced listeners, or
 * {'key'}, {'exclusive'}, {'pool', active count}.
 */
const CLAIM_LUA = `${LUA_HELPERS}
local now = nowMs()
local node, lease, listener, keyId, policy, poolSize = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local flat = redis.call('HGETALL', KEYS[1])
local live = {}
local others, otherKey, active = 0, false, {}
for i = 1, #flat, 2 do
  local id, entry = flat[i], decode(flat[i + 1])
  if entry == nil or entry.expires <= now then
    redis.call('HDEL', KEYS[1], id)
  else
    live[id] = entry
    -- This node's own entry is a claim retried after an answer that was lost: it does not stand in its own way.
    if not (id == listener and entry.node == node) then
      others = others + 1
      if entry.key ~= keyId then otherKey = true end
      if entry.state == 'a' then active[#active + 1] = id end
    end
  end
end
local verdict = nil
local replaced = {}
if others > 0 then
  if otherKey then
    verdict = { 'key' }
  elseif #active > 0 then
    if policy == 'takeover' then
      replaced = active
    elseif policy == 'pool' then
      if #active >= poolSize then verdict = { 'pool', #active } end
    else
      verdict = { 'exclusive' }
    end
  end
end
local answer = verdict
if verdict ~= nil then
  -- A refused retry: its caller closes the listener, so nothing would ever renew or release this entry.
  if live[listener] ~= nil and live[listener].node == node then
    live[listener] = nil
    redis.call('HDEL', KEYS[1], listener)
  end
else
  answer = { 'ok' }
  for _, id in ipairs(replaced) do
    answer[#answer + 1] = live[id].node
    answer[#answer + 1] = id
    live[id] = nil
    redis.call('HDEL', KEYS[1], id)
  end
  live[listener] = { expires = now + lease }
  redis.call('HSET', KEYS[1], listener, encode(now + lease, 'a', node, keyId))
end
-- Every live entry was read: the hash can live exactly as long as its latest lease.
local latest = 0
for _, entry in pairs(live) do
  if entry.expires > latest then latest = entry.expires end
end
if latest > now then redis.call('PEXPIRE', KEYS[1], string.format('%.0f', latest - now)) end
return answer
`;

/**
 * KEYS: one path's hash per lease. ARGV: node id, lease (ms), then per lease
 * its listener id and its state ('a'|'d'). Extends each lease that is still
 * this node's and unexpired; answers the 0-based indexes of the others. An
 * expired one is deleted here: it ran out, and must not come back to life
 * just because nobody claimed the path meanwhile.
 */
const RENEW_LUA = `${LUA_HELPERS}
local now = nowMs()
local node, lease = ARGV[1], tonumber(ARGV[2])
local lost = {}
local touched, seen = {}, {}
for i = 1, #KEYS do
  local id, state = ARGV[1 + 2 * i], ARGV[2 + 2 * i]
  local entry = decode(redis.call('HGET', KEYS[i], id))
  if entry == nil or entry.node ~= node then
    lost[#lost + 1] = i - 1
  elseif entry.expires <= now then
    redis.call('HDEL', KEYS[i], id)
    lost[#lost + 1] = i - 1
  else
    -- Draining is for good: a listener that came back to active could make two active ones on an exclusive path.
    if entry.state == 'd' then state = 'd' end
    redis.call('HSET', KEYS[i], id, encode(now + lease, state, node, entry.key))
    if not seen[KEYS[i]] then
      seen[KEYS[i]] = true
      touched[#touched + 1] = KEYS[i]
    end
  end
end
-- Only ever lengthened here: other nodes' leases in the hash (unread) may end later than ours.
for _, key in ipairs(touched) do
  if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
end
return lost
`;

/** KEYS[1]: the path's hash. ARGV: node id, listener id. Deletes the entry if it is this node's. */
const RELEASE_LUA = `${LUA_HELPERS}
local entry = decode(redis.call('HGET', KEYS[1], ARGV[2]))
if entry ~= nil and entry.node == ARGV[1] then
  redis.call('HDEL', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** KEYS[1]: the path's hash. Answers {Redis's time (ms), field, value, ...}: the clock to judge expiry by, with what it judges. */
const LOOKUP_LUA = `${LUA_HELPERS}
return { string.format('%.0f', nowMs()), redis.call('HGETALL', KEYS[1]) }
`;

/**
 * KEYS[1]: the path's hash, KEYS[2]: a key to SET. ARGV: this node's id, a
 * random number in [0, 1), the value and the PX of KEYS[2]. Picks one live
 * active lease held by another node (at random: Redis seeds a script's
 * math.random the same way every call), and only then writes KEYS[2], so a
 * dial on a path with no listener elsewhere writes nothing. Answers
 * {node, listener, key}, or {} when there is none.
 */
const PICK_ELSEWHERE_LUA = `${LUA_HELPERS}
local now = nowMs()
local flat = redis.call('HGETALL', KEYS[1])
local picks = {}
for i = 1, #flat, 2 do
  local entry = decode(flat[i + 1])
  if entry ~= nil and entry.expires > now and entry.state == 'a' and entry.node ~= ARGV[1] then
    picks[#picks + 1] = { flat[i], entry }
  end
end
if #picks == 0 then return {} end
local pick = picks[math.floor(tonumber(ARGV[2]) * #picks) + 1] or picks[1]
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return { pick[2].node, pick[1], pick[2].key }
`;

interface LeaseScripts {
  remotedClaimRoute(hash: string, ...args: string[]): Promise<unknown>;
  remotedRenewRoutes(numberOfKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  remotedReleaseRoute(hash: string, ...args: string[]): Promise<unknown>;
  remotedLookupRoute(hash: string): Promise<unknown>;
  remotedPickElsewhere(hash: string, record: string, ...args: string[]): Promise<unknown>;
}
type ScriptedRedis = Redis & LeaseScripts;

function withLeaseScripts(redis: Redis): ScriptedRedis {
  redis.defineCommand('remotedClaimRoute', { numberOfKeys: 1, lua: CLAIM_LUA });
  redis.defineCommand('remotedRenewRoutes', { lua: RENEW_LUA });
  redis.defineCommand('remotedReleaseRoute', { numberOfKeys: 1, lua: RELEASE_LUA });
  redis.defineCommand('remotedLookupRoute', { numberOfKeys: 1, lua: LOOKUP_LUA });
  redis.defineCommand('remotedPickElsewhere', { numberOfKeys: 2, lua: PICK_ELSEWHERE_LUA });
  // defineCommand adds the methods at run time; ioredis's only typing for them is a global module augmentation.
  return redis as ScriptedRedis;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The Redis key of a path's leases. Readable (the path as it is) when it can
 * be: Redis keys take any bytes. A path with a lone surrogate would reach
 * Redis as U+FFFD (UTF-8 cannot carry it), so two such paths could share a
 * key; it, and a very long path, is named by a SHA-256 of its UTF-16 code
 * units instead. `route:` and `route#` never meet, so neither form can
 * collide with the other.
 */
export function routeLeaseKey(path: string, prefix = DEFAULT_PREFIX): string {
  if (path.length <= MAX_READABLE_PATH_LENGTH && !LONE_SURROGATE.test(path)) return `${prefix}route:${path}`;
  return `${prefix}route#${createHash('sha256').update(path, 'utf16le').digest('hex')}`;
}

/** As the scripts spell it; keyId takes the rest, so it may hold anything, nodeId no `|`. */
const LEASE_VALUE = /^(\d+)\|([ad])\|([^|]+)\|([\s\S]+)$/;

interface DecodedLease {
  expiresAtMs: number;
  state: LeaseState;
  nodeId: string;
  keyId: string;
}

function decodeLease(value: unknown): DecodedLease | undefined {
  if (typeof value !== 'string') return undefined;
  const match = LEASE_VALUE.exec(value);
  if (!match) return undefined;
  const expiresAtMs = Number(match[1]);
  if (!Number.isSafeInteger(expiresAtMs)) return undefined;
  return { expiresAtMs, state: match[2] === 'a' ? 'active' : 'draining', nodeId: match[3], keyId: match[4] };
}

const STATE_CODE: Record<LeaseState, string> = { active: 'a', draining: 'd' };

/** The refusals, worded exactly as admitListener words them, so a listener hears the same on one node or many. */
function refusal(verdict: unknown[], poolSize: number): string {
  switch (verdict[0]) {
    case 'key':
      return 'Another key is listening on this path.';
    case 'exclusive':
      return 'Another listener is already listening on this path.';
    case 'pool':
      if (typeof verdict[1] === 'number') return `The pool on this path is full (${verdict[1]} of ${poolSize} listeners).`;
  }
  throw new Error(`unexpected answer from the route claim script: ${JSON.stringify(verdict)}`);
}

export class RouteLeases {
  private readonly redis: ScriptedRedis;
  private readonly nodeId: string;
  private readonly leaseMs: number;
  private readonly prefix: string;

  constructor(options: RouteLeasesOptions) {
    // The node id is a field of the encoding: a `|` in it would make every lease it writes unreadable.
    if (options.nodeId.length === 0 || options.nodeId.includes('|')) throw new RangeError(`node id ${JSON.stringify(options.nodeId)}: not empty, and no "|"`);
    if (!Number.isSafeInteger(options.leaseMs) || options.leaseMs < MIN_LEASE_MS) throw new RangeError(`leaseMs ${options.leaseMs}: an integer of at least ${MIN_LEASE_MS}`);
    this.redis = withLeaseScripts(options.redis);
    this.nodeId = options.nodeId;
    this.leaseMs = options.leaseMs;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
  }

  /**
   * Admits a listener to a path, cluster-wide, by admitListener's rules, and
   * gives it a lease; on takeover the replaced listeners' leases are deleted
   * and returned for the caller to close on their nodes. Safe to retry with
   * the same listener id after an answer was lost: the listener's own lease
   * does not refuse it.
   */
  async claim(input: RouteClaim): Promise<ClaimResult> {
    if (input.listenerId.length === 0 || input.keyId.length === 0) throw new RangeError('a claim needs a listener id and a key id');
    if (!isRoutePolicy(input.policy)) throw new RangeError(`unknown route policy ${JSON.stringify(input.policy)}`);
    if (!Number.isSafeInteger(input.poolSize) || input.poolSize < 0) throw new RangeError(`pool size ${input.poolSize}: a whole number`);
    const answer = await this.redis.remotedClaimRoute(
      routeLeaseKey(input.path, this.prefix),
      this.nodeId,
      String(this.leaseMs),
      input.listenerId,
      input.keyId,
      input.policy,
      String(input.poolSize),
    );
    if (!Array.isArray(answer)) throw new Error(`unexpected answer from the route claim script: ${typeof answer}`);
    if (answer[0] !== 'ok') return { admitted: false, message: refusal(answer, input.poolSize) };
    const replaces: LeaseHolder[] = [];
    for (let i = 1; i + 1 < answer.length; i += 2) {
      const [nodeId, listenerId] = [answer[i], answer[i + 1]];
      if (typeof nodeId === 'string' && typeof listenerId === 'string') replaces.push({ nodeId, listenerId });
    }
    return { admitted: true, replaces };
  }

  /**
   * Extends the leases of this node's listeners, and tells Redis which of
   * them drain (draining is for good: a lease never goes back to active).
   * Answers the leases that are gone; their listeners must be closed, since
   * another may hold their place. Batched: any number of leases in about one
   * round trip. A failure may have renewed some leases and not others;
   * renewing all of them again is harmless.
   */
  async renew(held: ReadonlyArray<HeldLease>): Promise<RenewResult> {
    const batches: Array<Promise<LostLease[]>> = [];
    for (let from = 0; from < held.length; from += RENEW_BATCH) batches.push(this.renewBatch(held.slice(from, from + RENEW_BATCH)));
    return { lost: (await Promise.all(batches)).flat() };
  }

  /** Deletes a lease of this node's at once (a listener that closed); one that is gone, or another node's, is left alone. */
  async release(path: string, listenerId: string): Promise<void> {
    await this.redis.remotedReleaseRoute(routeLeaseKey(path, this.prefix), this.nodeId, listenerId);
  }

  /** The live leases on a path, on every node; an unreadable entry is skipped. */
  async lookup(path: string): Promise<RouteLease[]> {
    const answer = await this.redis.remotedLookupRoute(routeLeaseKey(path, this.prefix));
    if (!Array.isArray(answer) || typeof answer[0] !== 'string' || !Array.isArray(answer[1])) {
      throw new Error('unexpected answer from the route lookup script');
    }
    const nowMs = Number(answer[0]);
    const flat: unknown[] = answer[1];
    const leases: RouteLease[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const listenerId = flat[i];
      const lease = decodeLease(flat[i + 1]);
      if (typeof listenerId !== 'string' || !lease || lease.expiresAtMs <= nowMs) continue;
      leases.push({ nodeId: lease.nodeId, listenerId, keyId: lease.keyId, state: lease.state });
    }
    return leases;
  }

  /**
   * A dial's one round trip to the leases: one live active listener of the
   * path on another node, chosen at random, and, when there is one, `record`
   * set to `value` for `ttlMs` in the same script (the cluster directory
   * records there where the dialer waits). undefined when no other node
   * listens on the path.
   */
  async pickElsewhere(path: string, record: { key: string; value: string; ttlMs: number }): Promise<RouteLease | undefined> {
    const answer = await this.redis.remotedPickElsewhere(routeLeaseKey(path, this.prefix), record.key, this.nodeId, String(Math.random()), record.value, String(Math.max(1, Math.ceil(record.ttlMs))));
    if (!Array.isArray(answer)) throw new Error(`unexpected answer from the route pick script: ${typeof answer}`);
    if (answer.length === 0) return undefined;
    const [nodeId, listenerId, keyId] = answer;
    if (typeof nodeId !== 'string' || typeof listenerId !== 'string' || typeof keyId !== 'string') throw new Error('unexpected answer from the route pick script');
    return { nodeId, listenerId, keyId, state: 'active' };
  }

  private async renewBatch(batch: ReadonlyArray<HeldLease>): Promise<LostLease[]> {
    const keys: string[] = [];
    const args: string[] = [this.nodeId, String(this.leaseMs)];
    for (const lease of batch) {
      keys.push(routeLeaseKey(lease.path, this.prefix));
      args.push(lease.listenerId, STATE_CODE[lease.state]);
    }
    const answer = await this.redis.remotedRenewRoutes(keys.length, ...keys, ...args);
    if (!Array.isArray(answer)) throw new Error(`unexpected answer from the route renew script: ${typeof answer}`);
    const lost: LostLease[] = [];
    for (const index of answer) {
      const lease = typeof index === 'number' ? batch[index] : undefined;
      if (!lease) throw new Error(`unexpected answer from the route renew script: index ${String(index)}`);
      lost.push({ path: lease.path, listenerId: lease.listenerId });
    }
    return lost;
  }
}
