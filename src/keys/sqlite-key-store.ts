/** The embedded key store: one SQLite file in the data directory. */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type ApiKey, type CreateKeyInput, isKeyRole, KEY_LIMIT_NAMES, type KeyChange, type KeyLimitName, type KeyLimits, type KeyRole, type KeyStore, type ListKeysQuery, type RevokeOptions, type UpdateKeyInput } from './api-key';
import { digestsEqual, generateKeyId, generateSecret, hashSecret } from './key-secret';
import { isRoutePolicy } from './route-policy';

interface KeyRow {
  id: string;
  secret_hash: Buffer;
  role: KeyRole;
  label: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  route_policy: string | null;
  pool_size: number | null;
  max_routes: number | null;
  max_waiting_dialers: number | null;
  max_spares: number | null;
  max_links: number | null;
}

/** The column of each per-key cap. */
const LIMIT_COLUMNS: Readonly<Record<KeyLimitName, 'max_routes' | 'max_waiting_dialers' | 'max_spares' | 'max_links'>> = {
  maxRoutes: 'max_routes',
  maxWaitingDialers: 'max_waiting_dialers',
  maxSpares: 'max_spares',
  maxLinks: 'max_links',
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id          TEXT PRIMARY KEY,
  secret_hash BLOB NOT NULL UNIQUE,
  role        TEXT NOT NULL CHECK (role IN ('server', 'client', 'admin')),
  label       TEXT NOT NULL DEFAULT '',
  scopes      TEXT NOT NULL DEFAULT '[]',
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER,
  revoked_at  INTEGER
);
`;

/**
 * Columns added after the table's first release. A new file gets them the
 * same way as an old one: added at open when PRAGMA table_info lacks them, so
 * there is one schema path and it is the one every start exercises. NULL
 * means the relay's default. route_policy has no CHECK of its values: a
 * column's CHECK cannot be changed in place, and a later policy would need a
 * table rebuild; toKey reads an unknown value as the default instead.
 */
const ADDED_COLUMNS: ReadonlyArray<{ name: keyof KeyRow; definition: string }> = [
  { name: 'route_policy', definition: 'TEXT' },
  { name: 'pool_size', definition: 'INTEGER CHECK (pool_size > 0)' },
  { name: 'max_routes', definition: 'INTEGER CHECK (max_routes >= 0)' },
  { name: 'max_waiting_dialers', definition: 'INTEGER CHECK (max_waiting_dialers >= 0)' },
  { name: 'max_spares', definition: 'INTEGER CHECK (max_spares >= 0)' },
  { name: 'max_links', definition: 'INTEGER CHECK (max_links >= 0)' },
];

const DEFAULT_LIST_LIMIT = 1000;

/**
 * Keys found by secret, by digest: every dial and dial-back authenticates, and
 * a SQLite query each time was a visible share of the relay's CPU per link.
 * Every write goes through this store, which forgets them all on update and
 * revoke, so a change applies to the next request. Misses are not kept, so
 * guessing cannot grow it.
 */
const MAX_CACHED_KEYS = 10_000;

/**
 * The key database holds every key's digest, which an unsalted SHA-256 makes
 * worth reading: the directory is made 0700 and the files 0600, and one that
 * existed with looser bits is reported (not changed: an operator may have
 * meant it, e.g. for a backup group).
 */
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
const GROUP_OR_OTHERS = 0o077;
/** SQLite's companions of the database file in WAL mode. */
const WAL_SUFFIXES = ['-wal', '-shm'] as const;

export interface LoosePermission {
  path: string;
  /** Octal, as ls and chmod spell it, e.g. "755". */
  mode: string;
  /** What to run to make it private. */
  fix: string;
}

export class SqliteKeyStore implements KeyStore {
  /** Paths of the database that existed with bits for group or others, found at open; the caller logs them. */
  readonly loosePermissions: readonly LoosePermission[];
  private readonly db: Database.Database;
  private readonly byHash: Database.Statement<[Buffer], KeyRow>;
  private readonly byId: Database.Statement<[string], KeyRow>;
  private readonly bySecretDigest = new Map<string, ApiKey>();
  private readonly changeListeners = new Set<(change: KeyChange) => void>();

  constructor(readonly file: string) {
    const dir = dirname(file);
    const madeDir = makePrivateDir(dir);
    const madeFile = makePrivateFile(file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.addMissingColumns();
    // SQLite has made the WAL and SHM files by now, with the database file's bits; made new, they are ours to set.
    const companions = WAL_SUFFIXES.map((suffix) => file + suffix);
    if (madeFile) for (const path of companions) chmodIfPresent(path, PRIVATE_FILE_MODE);
    this.loosePermissions = [
      ...(madeDir ? [] : [dir]),
      ...(madeFile ? [] : [file, ...companions]),
    ].flatMap((path) => loosePermission(path, path === dir ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE));
    this.byHash = this.db.prepare('SELECT * FROM api_keys WHERE secret_hash = ?');
    this.byId = this.db.prepare('SELECT * FROM api_keys WHERE id = ?');
  }

  async create(input: CreateKeyInput): Promise<{ key: ApiKey; secret: string }> {
    // SQLite stores NaN as NULL, which reads back as "never expires": an Invalid Date must never get this far.
    if (input.expiresAt && !Number.isFinite(input.expiresAt.getTime())) throw new RangeError('a key\'s expiry must be a valid date');
    const secret = input.secret ?? generateSecret();
    const row: KeyRow = {
      id: generateKeyId(),
      secret_hash: hashSecret(secret),
      role: input.role,
      label: input.label ?? '',
      scopes: JSON.stringify(input.scopes ?? []),
      created_at: Date.now(),
      expires_at: input.expiresAt ? input.expiresAt.getTime() : null,
      revoked_at: null,
      route_policy: input.routePolicy ?? null,
      pool_size: input.poolSize ?? null,
      max_routes: input.limits?.maxRoutes ?? null,
      max_waiting_dialers: input.limits?.maxWaitingDialers ?? null,
      max_spares: input.limits?.maxSpares ?? null,
      max_links: input.limits?.maxLinks ?? null,
    };
    this.db
      .prepare(
        `INSERT INTO api_keys (id, secret_hash, role, label, scopes, created_at, expires_at, revoked_at, route_policy, pool_size,
           max_routes, max_waiting_dialers, max_spares, max_links)
         VALUES (@id, @secret_hash, @role, @label, @scopes, @created_at, @expires_at, @revoked_at, @route_policy, @pool_size,
           @max_routes, @max_waiting_dialers, @max_spares, @max_links)`,
      )
      .run(row);
    return { key: toKey(row), secret };
  }

  async findBySecret(secret: string): Promise<ApiKey | undefined> {
    const digest = hashSecret(secret);
    const cacheKey = digest.toString('base64');
    const cached = this.bySecretDigest.get(cacheKey);
    if (cached) return cached;
    const row = this.byHash.get(digest);
    if (!row || !digestsEqual(row.secret_hash, digest)) return undefined;
    if (this.bySecretDigest.size >= MAX_CACHED_KEYS) this.bySecretDigest.clear();
    const key = toKey(row);
    this.bySecretDigest.set(cacheKey, key);
    return key;
  }

  async get(id: string): Promise<ApiKey | undefined> {
    const row = this.byId.get(id);
    return row ? toKey(row) : undefined;
  }

  async list(query: ListKeysQuery = {}): Promise<ApiKey[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: query.limit ?? DEFAULT_LIST_LIMIT };
    if (query.role) {
      where.push('role = @role');
      params.role = query.role;
    }
    if (!query.includeRevoked) where.push('revoked_at IS NULL');
    if (query.afterId) {
      where.push('id > @afterId');
      params.afterId = query.afterId;
    }
    const sql = `SELECT * FROM api_keys ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as KeyRow[]).map(toKey);
  }

  async update(id: string, input: UpdateKeyInput): Promise<ApiKey | undefined> {
    const sets: string[] = [];
    const params: Record<string, unknown> = { id };
    if (input.label !== undefined) {
      sets.push('label = @label');
      params.label = input.label;
    }
    if (input.scopes !== undefined) {
      sets.push('scopes = @scopes');
      params.scopes = JSON.stringify(input.scopes);
    }
    if (input.routePolicy !== undefined) {
      sets.push('route_policy = @route_policy');
      params.route_policy = input.routePolicy;
    }
    if (input.poolSize !== undefined) {
      sets.push('pool_size = @pool_size');
      params.pool_size = input.poolSize;
    }
    for (const name of KEY_LIMIT_NAMES) {
      const value = input.limits?.[name];
      if (value === undefined) continue;
      const column = LIMIT_COLUMNS[name];
      sets.push(`${column} = @${column}`);
      params[column] = value;
    }
    if (sets.length > 0) this.db.prepare(`UPDATE api_keys SET ${sets.join(', ')} WHERE id = @id`).run(params);
    this.bySecretDigest.clear();
    return this.changed(id, false);
  }

  async revoke(id: string, options: RevokeOptions = {}): Promise<ApiKey | undefined> {
    this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(Date.now(), id);
    this.bySecretDigest.clear();
    return this.changed(id, options.keepLinks === true);
  }

  onChange(listener: (change: KeyChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(id: string, keepLinks: boolean): ApiKey | undefined {
    const row = this.byId.get(id);
    if (!row) return undefined;
    const key = toKey(row);
    for (const listener of this.changeListeners) listener({ key, keepLinks });
    return key;
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM api_keys').get() as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  isReady(): boolean {
    return this.db.open;
  }

  /** Brings a file made by an older release up to the current columns, in one transaction. */
  private addMissingColumns(): void {
    const present = new Set((this.db.pragma('table_info(api_keys)') as Array<{ name: string }>).map((column) => column.name));
    const missing = ADDED_COLUMNS.filter((column) => !present.has(column.name));
    if (missing.length === 0) return;
    this.db.transaction(() => {
      for (const column of missing) this.db.exec(`ALTER TABLE api_keys ADD COLUMN ${column.name} ${column.definition}`);
    })();
  }
}

/** A key of a key file with its secret's digest: what moves to another store (import-keys; the secret itself is never stored). */
export interface KeyFileEntry {
  key: ApiKey;
  secretDigest: Buffer;
}

/**
 * Every key of a key file, read-only, ordered by id, for moving them to
 * another store. A file no relay has opened since a column was added lacks
 * it, which reads as the relay's default, as at open. A role other than the
 * table's CHECK allows was written by hand: refused rather than guessed.
 */
export function readKeyFile(file: string): KeyFileEntry[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT * FROM api_keys ORDER BY id').all() as KeyRow[]).map((row) => {
      if (!isKeyRole(row.role)) throw new Error(`key ${row.id} in ${file} has an unknown role ${JSON.stringify(row.role)}`);
      return { key: toKey(row), secretDigest: row.secret_hash };
    });
  } finally {
    db.close();
  }
}

function toKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    role: row.role,
    label: row.label,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: new Date(row.created_at),
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    // Only this store writes the column, with known policies; a value from elsewhere (or none, in an old file) means the default.
    routePolicy: row.route_policy != null && isRoutePolicy(row.route_policy) ? row.route_policy : undefined,
    poolSize: row.pool_size ?? undefined,
    limits: limitsOf(row),
  };
}

function limitsOf(row: KeyRow): KeyLimits {
  const limits: KeyLimits = {};
  for (const name of KEY_LIMIT_NAMES) {
    const value = row[LIMIT_COLUMNS[name]];
    if (value !== null && value !== undefined) limits[name] = value;
  }
  return limits;
}

/**
 * Makes the directory (and its missing parents) and sets it 0700; chmod,
 * unlike mkdir's mode, does not depend on the umask. False when it existed.
 */
function makePrivateDir(dir: string): boolean {
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: PRIVATE_DIR_MODE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  chmodSync(dir, PRIVATE_DIR_MODE);
  return true;
}

/** Creates the file empty and 0600 before SQLite opens it (an empty file is a new database to SQLite). False when it existed. */
function makePrivateFile(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
  return true;
}

function chmodIfPresent(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function loosePermission(path: string, privateMode: number): LoosePermission[] {
  // Windows has no such bits: what stat reports there says nothing about who may read.
  if (process.platform === 'win32') return [];
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if ((mode & GROUP_OR_OTHERS) === 0) return [];
  return [{ path, mode: mode.toString(8), fix: `chmod ${privateMode.toString(8)} ${path}` }];
}
