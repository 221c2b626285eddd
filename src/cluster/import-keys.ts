/**
 * Moves the keys of a single node's SQLite key file into the Redis of a
 * cluster, with their ids and digests, so that every secret in use keeps
 * working. The file is read read-only (sqlite-key-store.ts, readKeyFile).
 */
import { readKeyFile } from '../keys/sqlite-key-store';
import type { RedisKeyStore } from './redis-key-store';

/**
 * Every key of the file, or none: the store checks every id and digest
 * before it writes any (ImportConflictError names the first one taken).
 */
export async function importKeys(fromSqliteFile: string, store: RedisKeyStore): Promise<{ imported: number }> {
  const records = readKeyFile(fromSqliteFile);
  await store.importRecords(records);
  return { imported: records.length };
}
