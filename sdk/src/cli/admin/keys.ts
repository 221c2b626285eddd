/** `remoted keys create|list|get|update|revoke`: API keys through the control plane. */
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Command } from 'commander';
import {
  CreateKeyResponseSchema,
  GetKeyResponseSchema,
  ListKeysResponseSchema,
  RevokeKeyResponseSchema,
  UpdateKeyResponseSchema,
} from '../../gen/remoted/admin/v1/key_service_pb';
import { type Key, KeyRole, KeyState, type RoutePolicy } from '../../gen/remoted/admin/v1/key_pb';
import { CliError } from '../exit-codes';
import { type AdminOptions, withAdminClient, withAdminOptions } from './admin-connection';
import { collect, parseExpiry, parsePoolSize, parseRole, parseRoutePolicy, policyLabel } from './key-options';
import { enumLabel, formatTime, idOf, printJson, printTable } from './output';

const POLICY_HELP = 'server keys: what a second listener on a held path gets: exclusive, takeover, pool or default (the relay\'s)';
const POOL_SIZE_HELP = 'server keys: most active listeners per path under the pool policy (0 or default: the relay\'s)';

interface KeyFieldOptions {
  label?: string;
  scope?: string[];
  routePolicy?: RoutePolicy;
  poolSize?: number;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('create, list and revoke API keys (admin key needed)');

  withAdminOptions(keys.command('create'))
    .description('create a key and print its secret (shown only this once)')
    .requiredOption('--role <role>', 'server, client or admin', parseRole)
    .option('--label <text>', 'who holds the key, what it is for', '')
    .option('--scope <pattern>', 'a path pattern the key may use, e.g. /db/* (repeatable)', collect, [])
    .option('--expires <when>', 'expiry: an ISO date, or a span from now like 30d, 12h, 90m', parseExpiry)
    .option('--route-policy <policy>', POLICY_HELP, parseRoutePolicy)
    .option('--pool-size <n>', POOL_SIZE_HELP, parsePoolSize)
    .action((opts: AdminOptions & { role: KeyRole; label: string; scope: string[]; expires?: Date; routePolicy?: RoutePolicy; poolSize?: number }) =>
      withAdminClient(opts, async (client) => {
        const created = await client.keys.createKey({
          role: opts.role,
          label: opts.label,
          scopes: opts.scope,
          expireTime: opts.expires ? timestampFromDate(opts.expires) : undefined,
          routePolicy: opts.routePolicy,
          poolSize: opts.poolSize,
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

  withAdminOptions(keys.command('update'))
    .description('change a key\'s label, scopes, route policy or pool size (only the options given)')
    .argument('<key>', 'key id or name (keys/key_…)')
    .option('--label <text>', 'who holds the key, what it is for')
    .option('--scope <pattern>', 'a path pattern the key may use (repeatable; replaces the list)', collect)
    .option('--route-policy <policy>', POLICY_HELP, parseRoutePolicy)
    .option('--pool-size <n>', POOL_SIZE_HELP, parsePoolSize)
    .action((key: string, opts: AdminOptions & KeyFieldOptions) =>
      withAdminClient(opts, async (client) => {
        const paths = updateMaskOf(opts);
        const updated = await client.keys.updateKey({
          key: { name: key, label: opts.label, scopes: opts.scope, routePolicy: opts.routePolicy, poolSize: opts.poolSize },
          updateMask: { paths },
        });
        if (opts.json) return printJson(UpdateKeyResponseSchema, updated);
        printKeys(updated.key ? [updated.key] : []);
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
    ['ID', 'ROLE', 'STATE', 'LABEL', 'SCOPES', 'POLICY', 'CREATED', 'EXPIRES'],
    keys.map((k) => [
      idOf(k.name),
      enumLabel(KeyRole, k.role),
      enumLabel(KeyState, k.state),
      k.label || '-',
      k.scopes.join(',') || '*',
      policyLabel(k),
      formatTime(k.createTime),
      formatTime(k.expireTime),
    ]),
    '(no keys)',
  );
}

/** The API field names of the options given; none is a usage error. */
function updateMaskOf(opts: KeyFieldOptions): string[] {
  const paths: string[] = [];
  if (opts.label !== undefined) paths.push('label');
  if (opts.scope !== undefined) paths.push('scopes');
  if (opts.routePolicy !== undefined) paths.push('route_policy');
  if (opts.poolSize !== undefined) paths.push('pool_size');
  if (paths.length === 0) throw new CliError('nothing_to_update', 'give at least one of --label, --scope, --route-policy, --pool-size');
  return paths;
}
