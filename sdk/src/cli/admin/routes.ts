/**
 * `remoted routes [list]` and `remoted routes drain`: the listeners connected
 * now (one route each, several may share a path) and operator drain.
 */
import { create } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import { RoutePolicy } from '../../gen/remoted/admin/v1/key_pb';
import { type Route, RouteState } from '../../gen/remoted/admin/v1/route_pb';
import { DrainRouteResponseSchema, ListRoutesResponseSchema } from '../../gen/remoted/admin/v1/route_service_pb';
import type { CliContext } from '../cli-context';
import { type AdminOptions, withAdminClient, withAdminOptions } from './admin-connection';
import { enumLabel, formatBytes, formatTime, idOf, printJson, printTable } from './output';

export function registerRoutes(program: Command, { log }: CliContext): void {
  const routes = program.command('routes').description('list and drain routes: one per connected listener (admin key needed)');

  // The default subcommand: plain `remoted routes [--of-key …]` keeps listing.
  withAdminOptions(routes.command('list', { isDefault: true }))
    .description('list routes: state, policy, waiting dialers, links, spares and bytes')
    .option('--of-key <key>', 'only routes opened by this key (id or keys/…)')
    .option('--path <path>', 'only routes on this path')
    .action((opts: AdminOptions & { ofKey?: string; path?: string }) =>
      withAdminClient(opts, log, async (client) => {
        const all: Route[] = [];
        let pageToken = '';
        do {
          const page = await client.routes.listRoutes({ key: opts.ofKey, path: opts.path, pageSize: 1000, pageToken });
          all.push(...page.routes);
          pageToken = page.nextPageToken;
        } while (pageToken);
        if (opts.json) return printJson(ListRoutesResponseSchema, create(ListRoutesResponseSchema, { routes: all }));
        printRoutes(all);
      }),
    );

  withAdminOptions(routes.command('drain'))
    .description("stop new dials to a route's listener; its open links run until they end")
    .argument('<route>', 'a route id or name (routes/lsn_…), or a path that one listener holds')
    .action((route: string, opts: AdminOptions) =>
      withAdminClient(opts, log, async (client) => {
        const byPath = route.startsWith('/');
        const drained = await client.routes.drainRoute({ path: byPath ? route : '', name: byPath ? '' : route });
        if (opts.json) return printJson(DrainRouteResponseSchema, drained);
        const r = drained.route;
        process.stdout.write(`route ${idOf(r?.name ?? route)} on ${r?.path ?? '?'} is draining; ${r?.activeLinks ?? 0} links still open\n`);
      }),
    );
}

function printRoutes(routes: readonly Route[]): void {
  printTable(
    ['PATH', 'ROUTE', 'STATE', 'POLICY', 'KEY', 'LISTENER', 'SINCE', 'WAITING', 'LINKS', 'SPARES', 'SLOW', 'TO LISTENER', 'TO DIALERS'],
    routes.map((r) => [
      r.path,
      idOf(r.name),
      enumLabel(RouteState, r.state),
      enumLabel(RoutePolicy, r.policy),
      idOf(r.key),
      r.listenerAddress,
      formatTime(r.openTime),
      String(r.waitingDialers),
      String(r.activeLinks),
      String(r.spares),
      String(r.slowDialbacks),
      formatBytes(r.bytesToListener),
      formatBytes(r.bytesToDialers),
    ]),
    '(no routes)',
  );
}
