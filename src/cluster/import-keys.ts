/**
 * Moves the keys of a single node's SQLite key file into the Redis of a
 * cluster, with their ids and digests, so that every secret in use keeps
 * working. The file is opened read-only and its table read here, by column
 * name: the SQLite store itself stays a store, with no export path.
 */
import Database from 'better-sqlite3';
import { KEY_LIMIT_NAMES, type KeyLimitName, type KeyLimits } from '../keys/api-key';
import { isRoutePolicy } from '../keys/route-policy';
import { isKeyRole, type KeyRecord } from './key-record';
import type { RedisKeyStore } from './redis-key-store';

/**
 * A row of api_keys. The columns after `revoked_at` were added by later
 * releases (sqlite-key-store.ts, ADDED_COLUMNS): a file no relay has opened
 * since lacks them, which reads as the relay's defaults.
 */
interface KeyFileRow {
  id: string;
  secret_hash: Buffer;
  role: string;
  label: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  route_policy?: string | null;
  pool_size?: number | null;
  max_routes?: number | null;
  max_waiting_dialers?: number | null;
  max_spares?: number | null;
  max_links?: number | null;
}

const LIMIT_COLUMNS: Readonly<Record<KeyLimitName, 'max_routes' | 'max_waiting_dialers' | 'max_spares' | 'max_links'>> = {
  maxRoutes: 'max_routes',
  maxWaitingDialers: 'max_waiting_dialers',
  maxSpares: 'max_spares',
  maxLinks: 'max_links',
};

/**
 * Every key of the file, or none: the store checks every id and digest
 * before it writes any (ImportConflictError names the first one taken).
 */
export async function importKeys(fromSqliteFile: string, store: RedisKeyStore): Promise<{ imported: number }> {
  const records = readKeyFile(fromSqliteFile);
  await store.importRecords(records);
  return { imported: records.length };
}

function readKeyFile(file: string): KeyRecord[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT * FROM api_keys ORDER BY id').all() as KeyFileRow[]).map((row) => toRecord(row, file));
  } finally {
    db.close();
  }
}

function toRecord(row: KeyFileRow, file: string): KeyRecord {
  // The table's CHECK allows only these; anything else was written by hand, and is refused rather than guessed.
  if (!isKeyRole(row.role)) throw new Error(`key ${row.id} in ${file} has an unknown role ${JSON.stringify(row.role)}: nothing was imported`);
  const routePolicy = row.route_policy ?? null;
  const limits: KeyLimits = {};
  for (const name of KEY_LIMIT_NAMES) {
    const value = row[LIMIT_COLUMNS[name]];
    if (value !== null && value !== undefined) limits[name] = value;
  }
  return {
    key: {
      id: row.id,
      role: row.role,
      label: row.label,
      scopes: JSON.parse(row.scopes) as string[],
      createdAt: new Date(row.created_at),
      expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
      revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
      // As the SQLite store reads it: a policy this release does not know is the relay's default.
      routePolicy: routePolicy !== null && isRoutePolicy(routePolicy) ? routePolicy : undefined,
      poolSize: row.pool_size ?? undefined,
      limits,
    },
    secretDigest: row.secret_hash,
  };
}
