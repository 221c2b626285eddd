import { main } from '@remoted/sdk/cli/main';
import { TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';

describe('remoted CLI admin commands', () => {
  let relay: StartedRelay;

  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  /** Runs the CLI in-process; returns its exit code and what it printed. */
  async function remoted(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    try {
      const code = await main(['node', 'remoted', ...args, '--address', `127.0.0.1:${relay.grpcPort}`]);
      return { code, out, err };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  }

  it('creates, lists and revokes keys; lists and closes routes', async () => {
    process.env.REMOTED_ADMIN_KEY = relay.keys.admin;
    try {
      const created = await remoted('keys', 'create', '--role', 'client', '--label', 'from cli', '--scope', '/db/*', '--json');
      expect(created.code).toBe(0);
      const { key, secret } = JSON.parse(created.out) as { key: { name: string; role: string }; secret: string };
      expect(key.role).toBe('KEY_ROLE_CLIENT');
      expect(secret).toHaveLength(64);

      const table = await remoted('keys', 'list');
      expect(table.out).toMatch(/^ID\s+ROLE\s+STATE/);
      expect(table.out).toContain('from cli');

      const listener = await TestListener.open(relay.port, '/db/cli', relay.keys.server);
      const routes = JSON.parse((await remoted('routes', '--json')).out) as { routes: Array<{ path: string }> };
      expect(routes.routes.map((r) => r.path)).toEqual(['/db/cli']);
      expect((await remoted('links')).out).toBe('(no links)\n');

      const closed = new Promise<void>((resolve) => listener.ws.once('close', () => resolve()));
      expect((await remoted('disconnect', 'route', '/db/cli')).out).toMatch(/^kicked route \/db\/cli: /);
      await closed;

      expect((await remoted('keys', 'revoke', key.name)).out).toMatch(/^revoked key_/);
      expect((await remoted('stats', '--json')).code).toBe(0);
    } finally {
      delete process.env.REMOTED_ADMIN_KEY;
    }
  });

  it('prints `remoted: <code>: <message>` and exits 3 for a refused key, 2 for a bad argument', async () => {
    const refused = await remoted('routes', '--key', relay.keys.client);
    expect(refused.code).toBe(3);
    expect(refused.err).toMatch(/^remoted: unauthenticated: the bearer is not a valid admin key$/m);
    const bad = await remoted('keys', 'get', 'a/b/c', '--key', relay.keys.admin);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^remoted: invalid_argument: name: /m);
    const missing = await remoted('routes');
    expect(missing.err).toMatch(/^remoted: missing_admin_key: /);
  });

  it('creates and updates server keys with a route policy, lists routes by path with their state and policy, drains one', async () => {
    process.env.REMOTED_ADMIN_KEY = relay.keys.admin;
    try {
      const created = await remoted('keys', 'create', '--role', 'server', '--route-policy', 'pool', '--pool-size', '3', '--label', 'pooled', '--json');
      expect(created.code).toBe(0);
      const { key, secret } = JSON.parse(created.out) as { key: { name: string; routePolicy: string; poolSize: number }; secret: string };
      expect(key).toMatchObject({ routePolicy: 'ROUTE_POLICY_POOL', poolSize: 3 });

      const updated = await remoted('keys', 'update', key.name, '--route-policy', 'takeover');
      expect(updated.code).toBe(0);
      expect(updated.out).toMatch(/^ID\s+ROLE\s+STATE\s+LABEL\s+SCOPES\s+POLICY/);
      expect(updated.out).toContain('takeover:3');
      const reset = await remoted('keys', 'update', key.name.slice('keys/'.length), '--route-policy', 'default', '--pool-size', 'default', '--json');
      expect(JSON.parse(reset.out)).toMatchObject({ key: { name: key.name, label: 'pooled' } });
      expect(JSON.parse(reset.out).key.routePolicy).toBeUndefined(); // proto3 JSON leaves out the default

      const refused = await remoted('keys', 'create', '--role', 'client', '--route-policy', 'pool');
      expect(refused.code).toBe(2);
      expect(refused.err).toMatch(/^remoted: invalid_argument: route_policy: only server keys/);
      expect((await remoted('keys', 'create', '--role', 'server', '--route-policy', 'roundrobin')).err).toMatch(/^remoted: invalid_route_policy: /);
      expect((await remoted('keys', 'update', key.name)).err).toMatch(/^remoted: nothing_to_update: /);

      const listener = await TestListener.open(relay.port, '/db/drain', secret);
      const other = await TestListener.open(relay.port, '/db/other', relay.keys.server);
      const table = await remoted('routes', 'list', '--path', '/db/drain');
      expect(table.code).toBe(0);
      const [header, row, ...rest] = table.out.trim().split('\n');
      expect(header).toMatch(/^PATH\s+ROUTE\s+STATE\s+POLICY\s+KEY/);
      expect(row).toMatch(/^\/db\/drain\s+lsn_\S+\s+active\s+exclusive\s+key_/);
      expect(rest).toEqual([]);

      const drained = await remoted('routes', 'drain', '/db/drain');
      expect(drained.code).toBe(0);
      expect(drained.out).toMatch(/^route lsn_\S+ on \/db\/drain is draining; 0 links still open/);
      expect((await remoted('routes', '--path', '/db/drain')).out).toMatch(/\/db\/drain\s+lsn_\S+\s+draining\s+exclusive/);
      expect((await remoted('routes', 'drain', '/nowhere')).err).toMatch(/^remoted: not_found: route on path \/nowhere not found/);
      await Promise.all([listener.close(), other.close()]);
    } finally {
      delete process.env.REMOTED_ADMIN_KEY;
    }
  });
});
