/**
 * Keys that exist from the first start: those given in the configuration, and
 * on an empty store a generated server and client key, shown once.
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
}

export async function bootstrapKeys(store: KeyStore, given: BootstrapSecrets): Promise<GeneratedKey[]> {
  const emptyAtStart = (await store.count()) === 0;
  for (const role of ['server', 'client'] as const) {
    const secret = given[role];
    if (secret && !(await store.findBySecret(secret))) {
      await store.create({ role, secret, label: `bootstrap ${role} key (configuration)` });
    }
  }
  if (!emptyAtStart || given.server || given.client) return [];
  const generated: GeneratedKey[] = [];
  for (const role of ['server', 'client'] as const) {
    const { key, secret } = await store.create({ role, label: `generated ${role} key (first start)` });
    generated.push({ role, key, secret });
  }
  return generated;
}

/** The text printed once after a first start, with the URLs to use. */
export function describeGeneratedKeys(keys: readonly GeneratedKey[], host: string, port: number): string {
  const hostPort = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const lines = ['remoted: first start: generated keys (shown only this once; keep them safe):'];
  for (const { role, key, secret } of keys) {
    lines.push(`  ${role} key ${key.id}: ${secret}`);
    if (role === 'server') lines.push(`    listen with  rws://${secret}@${hostPort}/<path>`);
    if (role === 'client') lines.push(`    dial with    rwr://${secret}@${hostPort}/<path>`);
  }
  return lines.join('\n') + '\n';
}
