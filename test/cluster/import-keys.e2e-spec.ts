/**
 * `node dist/main.js import-keys --from <file>` as an operator runs it when a
 * single node grows into a cluster (docs/cluster.md): the keys of a SQLite
 * file move into Redis with their ids and secrets, so listeners keep their
 * keys; a second import of the same file writes nothing and exits 1; a
 * missing setting exits 2 and says what to set.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomToken } from '@remoted/sdk/protocol';
import { SqliteKeyStore } from '../../src/keys/sqlite-key-store';
import { startRedis, type RunningRedis } from '../helpers/redis-server';
import { makeLink, TestListener } from '../helpers/relay-peers';
import { startRelay } from '../helpers/start-relay';

const RELAY_MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

function importKeys(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [RELAY_MAIN, 'import-keys', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('import-keys: a single node\'s SQLite keys into the cluster\'s Redis', () => {
  let redis: RunningRedis;
  let dir: string;

  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'remoted-import-'));
  });
  afterAll(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves every key with its id and secret, refuses a second import whole, and names what is missing', async () => {
    const file = join(dir, 'remoted.sqlite');
    const single = new SqliteKeyStore(file);
    const server = await single.create({ role: 'server', label: 'from the single node', scopes: ['/imported/*'] });
    const client = await single.create({ role: 'client' });
    const revoked = await single.create({ role: 'client' });
    await single.revoke(revoked.key.id);
    await single.close();
    const env = { REMOTED_REDIS_URL: redis.url, REMOTED_CLUSTER_SECRET: randomToken() };

    const first = await importKeys(['--from', file], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(`imported 3 keys from ${file} into ${new URL(redis.url).toString()}\n`);

    const node = await startRelay({ cluster: { redisUrl: redis.url, secret: env.REMOTED_CLUSTER_SECRET, nodeId: 'grown' } });
    try {
      const imported = await node.store.get(server.key.id);
      expect(imported).toMatchObject({ id: server.key.id, role: 'server', label: 'from the single node', scopes: ['/imported/*'] });
      expect((await node.store.get(revoked.key.id))?.revokedAt).not.toBeNull();
      const listener = await TestListener.open(node.port, '/imported/ssh', server.secret);
      try {
        await makeLink(node.port, '/imported/ssh', listener, { server: server.secret, client: client.secret });
      } finally {
        await listener.close();
      }
    } finally {
      await node.close();
    }

    const again = await importKeys(['--from', file], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^remoted: nothing imported: key key_\w+ cannot be imported: its id is already in Redis/);

    const noRedis = await importKeys(['--from', file], {});
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toMatch(/set REMOTED_REDIS_URL and REMOTED_CLUSTER_SECRET/);
    const noFile = await importKeys(['--from', join(dir, 'absent.sqlite')], env);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/absent\.sqlite: no such file/);
  });
});
