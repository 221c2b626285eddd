/**
 * Keys that exist from the first start: those given in the configuration, and
 * on an empty store a generated server and client key, shown once. An admin
 * key is generated on an empty store unless one is given, so that the control
 * plane is reachable even when only data-plane keys are configured.
 */
import type { ApiKey, KeyRole, KeyStore } from './api-key';

export interface GeneratedKey {
  role: KeyRole;
  key: ApiKey;
  secret: string;
}

export interface BootstrapSecrets {
  server?: string;
  client?: string;
  admin?: string;
}

export async function bootstrapKeys(store: KeyStore, given: BootstrapSecrets): Promise<GeneratedKey[]> {
  const emptyAtStart = (await store.count()) === 0;
  for (const role of ['server', 'client', 'admin'] as const) {
    const secret = given[role];
    if (secret && !(await store.findBySecret(secret))) {
      await store.create({ role, secret, label: `bootstrap ${role} key (configuration)` }).catch(async (err: unknown) => {
        // Nodes of a cluster that start together with the same keys race to make them: the one that lost finds the key made.
        if (!(await store.findBySecret(secret))) throw err;
      });
    }
  }
  if (!emptyAtStart) return [];
  const roles: KeyRole[] = [];
  if (!given.server && !given.client) roles.push('server', 'client');
  if (!given.admin) roles.push('admin');
  const generated: GeneratedKey[] = [];
  for (const role of roles) {
    const { key, secret } = await store.create({ role, label: `generated ${role} key (first start)` });
    generated.push({ role, key, secret });
  }
  return generated;
}

/** Where the relay's ports are, as the first-start text needs them. */
export interface RelayEndpoints {
  relay: { host: string; port: number; tls: boolean };
  grpc?: { host: string; port: number; tls: boolean };
  /** The status page, when it is on. */
  status?: { host: string; port: number };
}

/** Paths in the example commands: an ssh server exposed, and a local port for it. */
const EXAMPLE = { path: '/ssh', service: '127.0.0.1:22', localPort: 2222 };

/**
 * The text printed once after a first start: the keys, the URLs for the SDK,
 * and commands that run as printed from the checkout (`npx remoted`, `npx buf
 * curl`; grpcurl is not shipped). Keys go in the environment of the command,
 * not in its arguments, which every local user sees in ps.
 */
export function describeGeneratedKeys(keys: readonly GeneratedKey[], endpoints: RelayEndpoints): string {
  const { relay, grpc, status } = endpoints;
  const hostPort = joinHostPort(connectHost(relay.host), relay.port);
  const [listen, dial] = relay.tls ? ['rwss', 'rwrs'] : ['rws', 'rwr'];
  const lines = ['remoted: first start: generated keys (shown only this once; keep them safe):'];
  for (const { role, key, secret } of keys) {
    lines.push(`  ${role} key ${key.id}: ${secret}`);
    if (role === 'server') {
      lines.push(`    listen with  ${listen}://${secret}@${hostPort}/<path>`);
      lines.push(`                 REMOTED_KEY=${secret} npx remoted expose ${listen}://${hostPort}${EXAMPLE.path} --to ${EXAMPLE.service}`);
    }
    if (role === 'client') {
      lines.push(`    dial with    ${dial}://${secret}@${hostPort}/<path>`);
      lines.push(`                 REMOTED_KEY=${secret} npx remoted forward ${dial}://${hostPort}${EXAMPLE.path} --listen 127.0.0.1:${EXAMPLE.localPort}   # then ssh -p ${EXAMPLE.localPort} 127.0.0.1`);
    }
    if (role === 'admin' && grpc) {
      const target = joinHostPort(connectHost(grpc.host), grpc.port);
      const method = 'remoted.admin.v1.RouteService/ListRoutes';
      lines.push(`    administer   REMOTED_ADMIN_ADDRESS=${target} REMOTED_ADMIN_KEY=${secret} npx remoted routes${grpc.tls ? ' --tls' : ''}`);
      lines.push(`                 npx buf curl --protocol grpc ${grpc.tls ? '' : '--http2-prior-knowledge '}-H 'authorization: Bearer ${secret}' ${grpc.tls ? 'https' : 'http'}://${target}/${method}`);
      lines.push(`                 grpcurl ${grpc.tls ? '' : '-plaintext '}-H 'authorization: Bearer ${secret}' ${target} ${method}   # grpcurl is not shipped: install it apart`);
    }
    if (role === 'admin' && status) {
      const page = joinHostPort(connectHost(status.host), status.port);
      // The secret stays out of this line: it is typed into the page's login form.
      lines.push(`    status page  http://${page} (log in with this key; from another machine: ssh -L ${status.port}:${page} <this host>, then the same address)`);
    }
  }
  lines.push('  (run the npx commands in the remoted checkout: npm ci and npm start or npm run build put them there)');
  return lines.join('\n') + '\n';
}

/** A wildcard bind address is not one to connect to: the commands use loopback. */
function connectHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

function joinHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
