/**
 * A key database written by a release before route policies: the store adds
 * the new columns when it opens the file, keeps every old key, and the
 * control plane then reads and writes the new fields.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { KeyRole, RoutePolicy } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { generateKeyId, generateSecret, hashSecret } from '../../src/keys/key-secret';
import { KEY_DATABASE_FILE } from '../../src/keys/keys.module';
import { SqliteKeyStore } from '../../src/keys/sqlite-key-store';
import { startRelay } from '../helpers/start-relay';
import { adminClientFor } from './control-helpers';

/** The table as the release before route policies created it (git show HEAD~3:src/keys/sqlite-key-store.ts). */
const OLD_SCHEMA = `
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

interface OldKey {
  id: string;
  secret: string;
}

/** A file with the old schema and one old server key in it. */
function writeOldDatabase(file: string): OldKey {
  const db = new Database(file);
  db.exec(OLD_SCHEMA);
  const key = { id: generateKeyId(), secret: generateSecret() };
  db.prepare('INSERT INTO api_keys (id, secret_hash, role, label, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    key.id,
    hashSecret(key.secret),
    'server',
    'from the old release',
    '["/db/*"]',
    Date.UTC(2026, 0, 1),
  );
  db.close();
  return key;
}

function columnsOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.pragma('table_info(api_keys)') as Array<{ name: string }>).map((c) => c.name);
  } finally {
    db.close();
  }
}

describe('key store: a database from before route policies', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'remoted-migration-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the columns at open, keeps the old keys with the default policy, and stores the new fields', async () => {
    const file = join(dir, KEY_DATABASE_FILE);
    const old = writeOldDatabase(file);
    expect(columnsOf(file)).not.toContain('route_policy');

    const store = new SqliteKeyStore(file);
    try {
      expect(columnsOf(file)).toEqual(expect.arrayContaining(['route_policy', 'pool_size']));
      const migrated = await store.findBySecret(old.secret);
      expect(migrated).toMatchObject({ id: old.id, role: 'server', label: 'from the old release', scopes: ['/db/*'] });
      expect(migrated?.routePolicy).toBeUndefined();
      expect(migrated?.poolSize).toBeUndefined();

      expect(await store.update(old.id, { routePolicy: 'pool', poolSize: 3 })).toMatchObject({ routePolicy: 'pool', poolSize: 3, label: 'from the old release' });
      // The secret cache was emptied by the update: a lookup by secret sees the new policy.
      expect(await store.findBySecret(old.secret)).toMatchObject({ routePolicy: 'pool', poolSize: 3 });
      const { key } = await store.create({ role: 'server', routePolicy: 'takeover' });
      expect(key).toMatchObject({ routePolicy: 'takeover' });
      expect(key.poolSize).toBeUndefined();
    } finally {
      await store.close();
    }

    // Opening a file that has the columns already changes nothing.
    const reopened = new SqliteKeyStore(file);
    try {
      expect(await reopened.get(old.id)).toMatchObject({ routePolicy: 'pool', poolSize: 3 });
      const cleared = await reopened.update(old.id, { routePolicy: null, poolSize: null });
      expect(cleared?.routePolicy).toBeUndefined();
      expect(cleared?.poolSize).toBeUndefined();
      expect(await reopened.count()).toBe(2);
    } finally {
      await reopened.close();
    }
  });

  it('serves the migrated keys over the control plane, new fields included', async () => {
    const old = writeOldDatabase(join(dir, KEY_DATABASE_FILE));
    const relay = await startRelay({}, { dataDir: dir });
    const admin = adminClientFor(relay);
    try {
      const name = `keys/${old.id}`;
      expect((await admin.keys.getKey({ name })).key).toMatchObject({ role: KeyRole.SERVER, label: 'from the old release', routePolicy: RoutePolicy.UNSPECIFIED, poolSize: 0 });
      const updated = await admin.keys.updateKey({ key: { name, routePolicy: RoutePolicy.POOL, poolSize: 5 }, updateMask: { paths: ['route_policy', 'pool_size'] } });
      expect(updated.key).toMatchObject({ routePolicy: RoutePolicy.POOL, poolSize: 5, scopes: ['/db/*'] });
    } finally {
      admin.close();
      await relay.close();
    }
  });
});
