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
      await store.create({ role, secret, label: `bootstrap ${role} key (configuration)` });
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

/** The text printed once after a first start, with the URLs to use. */
export function describeGeneratedKeys(
  keys: readonly GeneratedKey[],
  host: string,
  port: number,
  grpc?: { host: string; port: number; tls: boolean },
): string {
  const hostPort = joinHostPort(host, port);
  const lines = ['remoted: first start: generated keys (shown only this once; keep them safe):'];
  for (const { role, key, secret } of keys) {
    lines.push(`  ${role} key ${key.id}: ${secret}`);
    if (role === 'server') lines.push(`    listen with  rws://${secret}@${hostPort}/<path>`);
    if (role === 'client') lines.push(`    dial with    rwr://${secret}@${hostPort}/<path>`);
    if (role === 'admin' && grpc) {
      const target = joinHostPort(grpc.host, grpc.port);
      lines.push(`    administer   grpcurl ${grpc.tls ? '' : '-plaintext '}-H 'authorization: Bearer ${secret}' ${target} remoted.admin.v1.RouteService/ListRoutes`);
      lines.push(`                 REMOTED_ADMIN_ADDRESS=${target} REMOTED_ADMIN_KEY=${secret} remoted routes`);
    }
  }
  return lines.join('\n') + '\n';
}

function joinHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
