/**
 * A key as the Redis store holds it: one hash of string fields per key. This
 * file is the only one that knows the field names and their encoding, both
 * ways, so the store and the SQLite import cannot drift apart.
 */
import { type ApiKey, isKeyRole, KEY_LIMIT_NAMES, type KeyLimits, type UpdateKeyInput } from '../keys/api-key';
import { isRoutePolicy } from '../keys/route-policy';

/** A key and its secret's digest: what moves from one store to another (the secret itself is never stored). */
export interface KeyRecord {
  key: ApiKey;
  secretDigest: Buffer;
}

/** A record as read back, with what only revocations write. */
export interface StoredKeyRecord extends KeyRecord {
  /**
   * What the revocations of the key asked for links, so that a node that
   * missed them (its change reader was away) can still apply them. False
   * once any revocation asked that links be cut: that one has the last word.
   */
  revokeKeepsLinks: boolean;
}

/**
 * Field names. An absent field is a null (no expiry, not revoked, the relay's
 * default), so an update back to a default is an HDEL and nothing spells "null".
 */
export const FIELD = {
  digest: 'digest',
  role: 'role',
  label: 'label',
  scopes: 'scopes',
  createdAtMs: 'createdAtMs',
  expiresAtMs: 'expiresAtMs',
  revokedAtMs: 'revokedAtMs',
  revokeKeepsLinks: 'revokeKeepsLinks',
  routePolicy: 'routePolicy',
  poolSize: 'poolSize',
} as const;

/** The per-key caps keep their ApiKey names as field names. */
type FieldName = (typeof FIELD)[keyof typeof FIELD] | (typeof KEY_LIMIT_NAMES)[number];

/** The digest as the hash and the digest index spell it. */
export function digestText(digest: Buffer): string {
  return digest.toString('hex');
}

/** The fields of a new key, without the ones that are null. Throws RangeError on values SQLite's CHECKs would refuse. */
export function toFields(record: KeyRecord): Record<string, string> {
  const { key } = record;
  checkValues(key);
  const fields: Partial<Record<FieldName, string>> = {
    [FIELD.digest]: digestText(record.secretDigest),
    [FIELD.role]: key.role,
    [FIELD.label]: key.label,
    [FIELD.scopes]: JSON.stringify(key.scopes),
    [FIELD.createdAtMs]: String(key.createdAt.getTime()),
  };
  if (key.expiresAt) fields[FIELD.expiresAtMs] = String(key.expiresAt.getTime());
  if (key.revokedAt) fields[FIELD.revokedAtMs] = String(key.revokedAt.getTime());
  if (key.routePolicy !== undefined) fields[FIELD.routePolicy] = key.routePolicy;
  if (key.poolSize !== undefined) fields[FIELD.poolSize] = String(key.poolSize);
  for (const name of KEY_LIMIT_NAMES) {
    const value = key.limits[name];
    if (value !== undefined) fields[name] = String(value);
  }
  return fields;
}

/** What an update writes: fields to set, and fields to delete (set back to the relay's default). */
export function updateFields(input: UpdateKeyInput): { set: Record<string, string>; clear: string[] } {
  if (input.poolSize !== undefined && input.poolSize !== null) checkPoolSize(input.poolSize);
  const set: Partial<Record<FieldName, string>> = {};
  const clear: FieldName[] = [];
  if (input.label !== undefined) set[FIELD.label] = input.label;
  if (input.scopes !== undefined) set[FIELD.scopes] = JSON.stringify(input.scopes);
  if (input.routePolicy === null) clear.push(FIELD.routePolicy);
  else if (input.routePolicy !== undefined) set[FIELD.routePolicy] = input.routePolicy;
  if (input.poolSize === null) clear.push(FIELD.poolSize);
  else if (input.poolSize !== undefined) set[FIELD.poolSize] = String(input.poolSize);
  for (const name of KEY_LIMIT_NAMES) {
    const value = input.limits?.[name];
    if (value === null) clear.push(name);
    else if (value !== undefined) {
      checkLimit(name, value);
      set[name] = String(value);
    }
  }
  return { set, clear };
}

/**
 * The record in a hash (HGETALL's answer), or undefined for an empty one (no
 * such key). A field that does not decode throws: it was written by something
 * other than this store, and guessing could authenticate a key wrongly.
 */
export function fromFields(id: string, fields: Record<string, string>): StoredKeyRecord | undefined {
  if (Object.keys(fields).length === 0) return undefined;
  const malformed = (field: string): Error => new Error(`key ${id} in Redis has a malformed ${field} field`);
  const role = fields[FIELD.role];
  if (!isKeyRole(role)) throw malformed(FIELD.role);
  const digest = fields[FIELD.digest];
  if (!digest || !/^[0-9a-f]{64}$/.test(digest)) throw malformed(FIELD.digest);
  const scopes = parseScopes(fields[FIELD.scopes] ?? '[]');
  if (!scopes) throw malformed(FIELD.scopes);
  const number = (field: FieldName): number | undefined => {
    const text = fields[field];
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text === '' || !Number.isFinite(value)) throw malformed(field);
    return value;
  };
  const date = (field: FieldName): Date | null => {
    const ms = number(field);
    return ms === undefined ? null : new Date(ms);
  };
  const createdAt = date(FIELD.createdAtMs);
  if (!createdAt) throw malformed(FIELD.createdAtMs);
  const routePolicy = fields[FIELD.routePolicy];
  const limits: KeyLimits = {};
  for (const name of KEY_LIMIT_NAMES) {
    const value = number(name);
    if (value !== undefined) limits[name] = value;
  }
  return {
    key: {
      id,
      role,
      label: fields[FIELD.label] ?? '',
      scopes,
      createdAt,
      expiresAt: date(FIELD.expiresAtMs),
      revokedAt: date(FIELD.revokedAtMs),
      // As in the SQLite store: an unknown policy (written by a later release) means the relay's default.
      routePolicy: routePolicy !== undefined && isRoutePolicy(routePolicy) ? routePolicy : undefined,
      poolSize: number(FIELD.poolSize),
      limits,
    },
    secretDigest: Buffer.from(digest, 'hex'),
    revokeKeepsLinks: fields[FIELD.revokeKeepsLinks] === '1',
  };
}

/** HGETALL inside a script answers a flat [field, value, ...] list. */
export function pairsToFields(pairs: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i]] = pairs[i + 1];
  return fields;
}

function parseScopes(text: string): string[] | undefined {
  let scopes: unknown;
  try {
    scopes = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string') ? scopes : undefined;
}


/** The bounds the SQLite store's column CHECKs hold, so that both stores refuse the same values. */
function checkValues(key: ApiKey): void {
  for (const [what, date] of [['creation', key.createdAt], ['expiry', key.expiresAt], ['revocation', key.revokedAt]] as const) {
    if (date && !Number.isFinite(date.getTime())) throw new RangeError(`a key's ${what} must be a valid date`);
  }
  if (key.poolSize !== undefined) checkPoolSize(key.poolSize);
  for (const name of KEY_LIMIT_NAMES) {
    const value = key.limits[name];
    if (value !== undefined) checkLimit(name, value);
  }
}

function checkPoolSize(poolSize: number): void {
  if (!Number.isFinite(poolSize) || poolSize <= 0) throw new RangeError(`a key's pool size must be positive (got ${poolSize})`);
}

function checkLimit(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`a key's ${name} must be zero or more (got ${value})`);
}
