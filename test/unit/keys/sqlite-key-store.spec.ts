import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ID_ALPHABET } from '@remoted/sdk/protocol';
import { bootstrapKeys, describeGeneratedKeys } from '../../../src/keys/bootstrap-keys';
import { KeyAuthenticator } from '../../../src/keys/key-authenticator';
import { SqliteKeyStore } from '../../../src/keys/sqlite-key-store';

describe('SqliteKeyStore', () => {
  let dir: string;
  let store: SqliteKeyStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'remoted-keys-'));
    store = new SqliteKeyStore(join(dir, 'nested', 'keys.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a hash of the secret, never the secret', async () => {
    const { key, secret } = await store.create({ role: 'server', label: 'db', scopes: ['/db/*'] });
    expect(secret).toHaveLength(64);
    expect([...secret].every((c) => ID_ALPHABET.includes(c))).toBe(true);
    await store.close();
    const bytes = readFileSync(join(dir, 'nested', 'keys.sqlite'));
    expect(bytes.includes(Buffer.from(secret))).toBe(false);
    store = new SqliteKeyStore(join(dir, 'nested', 'keys.sqlite'));
    expect(await store.findBySecret(secret)).toEqual(key);
    expect(await store.findBySecret(secret.slice(0, 63))).toBeUndefined();
  });

  it('lists, updates and revokes', async () => {
    const a = await store.create({ role: 'client', label: 'a' });
    const b = await store.create({ role: 'server', label: 'b' });
    expect((await store.list()).map((k) => k.id).sort()).toEqual([a.key.id, b.key.id].sort());
    expect(await store.list({ role: 'server' })).toEqual([b.key]);
    expect(await store.update(a.key.id, { label: 'renamed', scopes: ['/x'] })).toMatchObject({ label: 'renamed', scopes: ['/x'] });
    const revoked = await store.revoke(a.key.id);
    expect(revoked?.revokedAt).toBeInstanceOf(Date);
    expect((await store.list()).map((k) => k.id)).toEqual([b.key.id]);
    expect(await store.list({ includeRevoked: true })).toHaveLength(2);
    expect(await store.revoke('key_missing')).toBeUndefined();
  });

  it('sees an update or a revocation on the very next lookup of a key it has looked up before', async () => {
    const { key, secret } = await store.create({ role: 'client', scopes: ['/a'] });
    expect(await store.findBySecret(secret)).toMatchObject({ id: key.id, scopes: ['/a'] });
    await store.update(key.id, { scopes: ['/b'] });
    expect(await store.findBySecret(secret)).toMatchObject({ scopes: ['/b'] });
    await store.revoke(key.id);
    expect((await store.findBySecret(secret))?.revokedAt).toBeInstanceOf(Date);
  });

  it('authenticates only usable keys in scope', async () => {
    const auth = new KeyAuthenticator(store);
    const scoped = await store.create({ role: 'client', scopes: ['/db/*'] });
    const expired = await store.create({ role: 'client', expiresAt: new Date(Date.now() - 1) });
    expect(await auth.authenticate(scoped.secret, '/db/x')).toMatchObject({ id: scoped.key.id });
    expect(await auth.authenticate(scoped.secret, '/web')).toBeUndefined();
    expect(await auth.authenticate(expired.secret, '/db/x')).toBeUndefined();
    expect(await auth.authenticate(undefined, '/db/x')).toBeUndefined();
  });

  it('generates a server, a client and an admin key on a first start only', async () => {
    const generated = await bootstrapKeys(store, {});
    expect(generated.map((g) => g.role)).toEqual(['server', 'client', 'admin']);
    const text = describeGeneratedKeys(generated, { relay: { host: '127.0.0.1', port: 37791, tls: false } });
    expect(text).toContain(`rws://${generated[0].secret}@127.0.0.1:37791/<path>`);
    expect(text).toContain(`rwr://${generated[1].secret}@127.0.0.1:37791/<path>`);
    expect(text).not.toContain('status page');
    const withPage = describeGeneratedKeys(generated, { relay: { host: '127.0.0.1', port: 37791, tls: false }, status: { host: '0.0.0.0', port: 37793 } });
    const pageLine = withPage.split('\n').find((line) => line.includes('status page'));
    expect(pageLine).toContain('http://127.0.0.1:37793 ');
    expect(pageLine).not.toContain(generated[2].secret);
    expect(await bootstrapKeys(store, {})).toEqual([]);
    expect(await store.count()).toBe(3);
  });

  it('registers configured keys once and generates none beside them', async () => {
    const given = { server: 's'.repeat(64), client: 'c'.repeat(64), admin: 'a'.repeat(64) };
    expect(await bootstrapKeys(store, given)).toEqual([]);
    expect(await bootstrapKeys(store, given)).toEqual([]);
    expect(await store.count()).toBe(3);
    expect((await store.findBySecret('s'.repeat(64)))?.role).toBe('server');
  });
});

describe('SqliteKeyStore files', () => {
  let dir: string;
  let previousUmask: number;

  const modeOf = (path: string): number => statSync(path).mode & 0o777;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'remoted-perm-'));
    // The most permissive umask: whatever is private below, the store made private itself.
    previousUmask = process.umask(0);
  });
  afterEach(() => {
    process.umask(previousUmask);
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes the data directory 0700 and the database, WAL and SHM files 0600 whatever the umask, and warns of nothing', async () => {
    const dataDir = join(dir, 'data');
    const file = join(dataDir, 'remoted.sqlite');
    const store = new SqliteKeyStore(file);
    await store.create({ role: 'client' });
    expect(modeOf(dataDir)).toBe(0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) {
      expect(existsSync(path)).toBe(true);
      expect(modeOf(path)).toBe(0o600);
    }
    expect(store.loosePermissions).toEqual([]);
    await store.close();
  });

  it('reports an existing directory or file that group or others can read, and leaves its bits alone', async () => {
    const dataDir = join(dir, 'data');
    const file = join(dataDir, 'remoted.sqlite');
    const first = new SqliteKeyStore(file);
    await first.create({ role: 'server' });
    await first.close();
    expect(new SqliteKeyStore(file).loosePermissions).toEqual([]);

    chmodSync(dataDir, 0o755);
    chmodSync(file, 0o644);
    const reopened = new SqliteKeyStore(file);
    expect(reopened.loosePermissions.slice(0, 2)).toEqual([
      { path: dataDir, mode: '755', fix: `chmod 700 ${dataDir}` },
      { path: file, mode: '644', fix: `chmod 600 ${file}` },
    ]);
    // SQLite gives the WAL and SHM files it makes the database file's bits, so they are reported too.
    for (const companion of reopened.loosePermissions.slice(2)) {
      expect(companion).toEqual({ path: expect.stringMatching(/remoted\.sqlite-(wal|shm)$/), mode: '644', fix: `chmod 600 ${companion.path}` });
    }
    expect([modeOf(dataDir), modeOf(file)]).toEqual([0o755, 0o644]);
    expect(await reopened.count()).toBe(1);
    await reopened.close();
  });

  it('reports an existing directory made by someone else with loose bits, before any database is in it', async () => {
    const dataDir = join(dir, 'shared');
    mkdirSync(dataDir, { mode: 0o775 });
    const store = new SqliteKeyStore(join(dataDir, 'remoted.sqlite'));
    expect(store.loosePermissions).toEqual([{ path: dataDir, mode: '775', fix: `chmod 700 ${dataDir}` }]);
    expect(modeOf(join(dataDir, 'remoted.sqlite'))).toBe(0o600);
    await store.close();
  });

  it('refuses to store an expiry that is not a valid date, rather than store none', async () => {
    const store = new SqliteKeyStore(join(dir, 'keys.sqlite'));
    await expect(store.create({ role: 'client', expiresAt: new Date(Number.NaN) })).rejects.toThrow(RangeError);
    expect(await store.count()).toBe(0);
    await store.close();
  });
});
