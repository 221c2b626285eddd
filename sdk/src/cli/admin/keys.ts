/** `remoted keys create|list|get|revoke`: API keys through the control plane. */
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Command } from 'commander';
import { CreateKeyResponseSchema, GetKeyResponseSchema, ListKeysResponseSchema, RevokeKeyResponseSchema } from '../../gen/remoted/admin/v1/key_service_pb';
import { type Key, KeyRole, KeyState } from '../../gen/remoted/admin/v1/key_pb';
import { CliError } from '../exit-codes';
import { type AdminOptions, withAdminClient, withAdminOptions } from './admin-connection';
import { enumLabel, formatTime, idOf, printJson, printTable } from './output';

const ROLES: Record<string, KeyRole> = { server: KeyRole.SERVER, client: KeyRole.CLIENT, admin: KeyRole.ADMIN };

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('create, list and revoke API keys (admin key needed)');

  withAdminOptions(keys.command('create'))
    .description('create a key and print its secret (shown only this once)')
    .requiredOption('--role <role>', 'server, client or admin', parseRole)
    .option('--label <text>', 'who holds the key, what it is for', '')
    .option('--scope <pattern>', 'a path pattern the key may use, e.g. /db/* (repeatable)', collect, [])
    .option('--expires <when>', 'expiry: an ISO date, or a span from now like 30d, 12h, 90m', parseExpiry)
    .action((opts: AdminOptions & { role: KeyRole; label: string; scope: string[]; expires?: Date }) =>
      withAdminClient(opts, async (client) => {
        const created = await client.keys.createKey({
          role: opts.role,
          label: opts.label,
          scopes: opts.scope,
          expireTime: opts.expires ? timestampFromDate(opts.expires) : undefined,
        });
        if (opts.json) return printJson(CreateKeyResponseSchema, created);
        printKeys(created.key ? [created.key] : []);
        process.stdout.write(`secret: ${created.secret}\n(shown only this once; keep it safe)\n`);
      }),
    );

  withAdminOptions(keys.command('list'))
    .description('list keys')
    .option('--role <role>', 'only keys of this role', parseRole)
    .option('--all', 'include revoked keys')
    .action((opts: AdminOptions & { role?: KeyRole; all?: boolean }) =>
      withAdminClient(opts, async (client) => {
        const all: Key[] = [];
        let pageToken = '';
        do {
          const page = await client.keys.listKeys({ role: opts.role, showRevoked: opts.all, pageSize: 1000, pageToken });
          all.push(...page.keys);
          pageToken = page.nextPageToken;
        } while (pageToken);
        if (opts.json) return printJson(ListKeysResponseSchema, create(ListKeysResponseSchema, { keys: all }));
        printKeys(all);
      }),
    );

  withAdminOptions(keys.command('get'))
    .description('show one key')
    .argument('<key>', 'key id or name (keys/key_…)')
    .action((key: string, opts: AdminOptions) =>
      withAdminClient(opts, async (client) => {
        const got = await client.keys.getKey({ name: key });
        if (opts.json) return printJson(GetKeyResponseSchema, got);
        printKeys(got.key ? [got.key] : []);
      }),
    );

  withAdminOptions(keys.command('revoke'))
    .description('revoke a key: new requests with it are refused')
    .argument('<key>', 'key id or name (keys/key_…)')
    .option('--close-connections', 'also close at once every listener and link the key opened')
    .action((key: string, opts: AdminOptions & { closeConnections?: boolean }) =>
      withAdminClient(opts, async (client) => {
        const revoked = await client.keys.revokeKey({ name: key, closeConnections: opts.closeConnections });
        if (opts.json) return printJson(RevokeKeyResponseSchema, revoked);
        process.stdout.write(`revoked ${idOf(revoked.key?.name ?? key)}; closed ${revoked.closedRoutes} routes, ${revoked.closedLinks} links\n`);
      }),
    );
}

function printKeys(keys: readonly Key[]): void {
  printTable(
    ['ID', 'ROLE', 'STATE', 'LABEL', 'SCOPES', 'CREATED', 'EXPIRES'],
    keys.map((k) => [
      idOf(k.name),
      enumLabel(KeyRole, k.role),
      enumLabel(KeyState, k.state),
      k.label || '-',
      k.scopes.join(',') || '*',
      formatTime(k.createTime),
      formatTime(k.expireTime),
    ]),
    '(no keys)',
  );
}

function parseRole(value: string): KeyRole {
  const role = ROLES[value.toLowerCase()];
  if (role === undefined) throw new CliError('invalid_role', `--role must be server, client or admin (got "${value}")`);
  return role;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const SPAN = /^(\d+)([smhd])$/;
const SPAN_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function parseExpiry(value: string): Date {
  const span = SPAN.exec(value);
  const date = span ? new Date(Date.now() + Number(span[1]) * SPAN_MS[span[2]]) : new Date(value);
  if (Number.isNaN(date.getTime())) throw new CliError('invalid_expiry', `--expires must be an ISO date or a span like 30d (got "${value}")`);
  return date;
}
