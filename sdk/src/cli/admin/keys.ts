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
import type { CliContext } from '../cli-context';
import { type AdminOptions, withAdminClient, withAdminOptions } from './admin-connection';
import { collect, parseCap, parseExpiry, parsePoolSize, parseRole, parseRoutePolicy, policyLabel } from './key-options';
import { enumLabel, formatTime, idOf, printJson, printTable } from './output';

const POLICY_HELP = 'server keys: what a second listener on a held path gets: exclusive, takeover, pool or default (the relay\'s)';
const POOL_SIZE_HELP = 'server keys: most active listeners per path under the pool policy (0 or default: the relay\'s)';

/** Per-key caps: option, API field, help. 0 or `default` is the relay's default. */
const CAP_OPTIONS = [
  { flag: '--max-routes <n>', option: 'maxRoutes', field: 'max_routes', help: 'server keys: listeners open at once' },
  { flag: '--max-spares <n>', option: 'maxSpares', field: 'max_spares', help: 'server keys: spare dial-backs held at once' },
  { flag: '--max-waiting-dialers <n>', option: 'maxWaitingDialers', field: 'max_waiting_dialers', help: 'client keys: dials waiting at once' },
  { flag: '--max-links <n>', option: 'maxLinks', field: 'max_links', help: 'client keys: links open at once' },
] as const;

type CapOptions = { [K in (typeof CAP_OPTIONS)[number]['option']]?: number };

function capsOf(opts: CapOptions): CapOptions {
  return { maxRoutes: opts.maxRoutes, maxSpares: opts.maxSpares, maxWaitingDialers: opts.maxWaitingDialers, maxLinks: opts.maxLinks };
}

function withCapOptions(command: Command): Command {
  for (const cap of CAP_OPTIONS) command.option(cap.flag, `${cap.help} (0 or default: the relay's)`, parseCap);
  return command;
}

interface KeyFieldOptions extends CapOptions {
  label?: string;
  scope?: string[];
  routePolicy?: RoutePolicy;
  poolSize?: number;
}

export function registerKeys(program: Command, { log }: CliContext): void {
  const keys = program.command('keys').description('create, list and revoke API keys (admin key needed)');

  withCapOptions(withAdminOptions(keys.command('create')))
    .description('create a key and print its secret (shown only this once)')
    .requiredOption('--role <role>', 'server, client or admin', parseRole)
    .option('--label <text>', 'who holds the key, what it is for', '')
    .option('--scope <pattern>', 'a path pattern the key may use, e.g. /db/* (repeatable)', collect, [])
    .option('--expires <when>', 'expiry: an ISO date, or a span from now like 30d, 12h, 90m', parseExpiry)
    .option('--route-policy <policy>', POLICY_HELP, parseRoutePolicy)
    .option('--pool-size <n>', POOL_SIZE_HELP, parsePoolSize)
    .action((opts: AdminOptions & CapOptions & { role: KeyRole; label: string; scope: string[]; expires?: Date; routePolicy?: RoutePolicy; poolSize?: number }) =>
      withAdminClient(opts, log, async (client) => {
        const created = await client.keys.createKey({
          role: opts.role,
          label: opts.label,
          scopes: opts.scope,
          expireTime: opts.expires ? timestampFromDate(opts.expires) : undefined,
          routePolicy: opts.routePolicy,
          poolSize: opts.poolSize,
          ...capsOf(opts),
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
      withAdminClient(opts, log, async (client) => {
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
      withAdminClient(opts, log, async (client) => {
        const got = await client.keys.getKey({ name: key });
        if (opts.json) return printJson(GetKeyResponseSchema, got);
        printKeys(got.key ? [got.key] : []);
      }),
    );

  withCapOptions(withAdminOptions(keys.command('update')))
    .description('change a key\'s label, scopes, route policy, pool size or caps (only the options given); narrowed scopes close what lies outside them')
    .argument('<key>', 'key id or name (keys/key_…)')
    .option('--label <text>', 'who holds the key, what it is for')
    .option('--scope <pattern>', 'a path pattern the key may use (repeatable; replaces the list)', collect)
    .option('--route-policy <policy>', POLICY_HELP, parseRoutePolicy)
    .option('--pool-size <n>', POOL_SIZE_HELP, parsePoolSize)
    .action((key: string, opts: AdminOptions & KeyFieldOptions) =>
      withAdminClient(opts, log, async (client) => {
        const paths = updateMaskOf(opts);
        const updated = await client.keys.updateKey({
          key: {
            name: key,
            label: opts.label,
            scopes: opts.scope,
            routePolicy: opts.routePolicy,
            poolSize: opts.poolSize,
            ...capsOf(opts),
          },
          updateMask: { paths },
        });
        if (opts.json) return printJson(UpdateKeyResponseSchema, updated);
        printKeys(updated.key ? [updated.key] : []);
        if (updated.closedRoutes + updated.closedLinks > 0) {
          process.stdout.write(`closed ${updated.closedRoutes} routes, ${updated.closedLinks} links outside the new scopes\n`);
        }
      }),
    );

  withAdminOptions(keys.command('revoke'))
    .description('revoke a key: new requests with it are refused, and its listeners, spares, waiting dials and links are closed at once')
    .argument('<key>', 'key id or name (keys/key_…)')
    .option('--keep-links', 'let the key\'s established links run until they end by themselves')
    .option('--close-connections', 'close the links even with --keep-links (what revoke did only with this flag before)')
    .action((key: string, opts: AdminOptions & { closeConnections?: boolean; keepLinks?: boolean }) =>
      withAdminClient(opts, log, async (client) => {
        const revoked = await client.keys.revokeKey({ name: key, closeConnections: opts.closeConnections, keepLinks: opts.keepLinks });
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
  for (const cap of CAP_OPTIONS) if (opts[cap.option] !== undefined) paths.push(cap.field);
  if (paths.length === 0) {
    throw new CliError('nothing_to_update', `give at least one of --label, --scope, --route-policy, --pool-size, ${CAP_OPTIONS.map((c) => c.flag.split(' ')[0]).join(', ')}`);
  }
  return paths;
}
