/** `remoted routes`: the paths that have a listener now, with their counters. */
import { create } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import type { Route } from '../../gen/remoted/admin/v1/route_pb';
import { ListRoutesResponseSchema } from '../../gen/remoted/admin/v1/route_service_pb';
import { type AdminOptions, withAdminClient, withAdminOptions } from './admin-connection';
import { formatBytes, formatTime, idOf, printJson, printTable } from './output';

export function registerRoutes(program: Command): void {
  withAdminOptions(program.command('routes'))
    .description('list routes: listeners, waiting dialers, links and bytes (admin key needed)')
    .option('--of-key <key>', 'only routes opened by this key (id or keys/…)')
    .action((opts: AdminOptions & { ofKey?: string }) =>
      withAdminClient(opts, async (client) => {
        const routes: Route[] = [];
        let pageToken = '';
        do {
          const page = await client.routes.listRoutes({ key: opts.ofKey, pageSize: 1000, pageToken });
          routes.push(...page.routes);
          pageToken = page.nextPageToken;
        } while (pageToken);
        if (opts.json) return printJson(ListRoutesResponseSchema, create(ListRoutesResponseSchema, { routes }));
        printTable(
          ['PATH', 'ROUTE', 'KEY', 'LISTENER', 'SINCE', 'WAITING', 'LINKS', 'TO LISTENER', 'TO DIALERS'],
          routes.map((r) => [
            r.path,
            idOf(r.name),
            idOf(r.key),
            r.listenerAddress,
            formatTime(r.openTime),
            String(r.waitingDialers),
            String(r.activeLinks),
            formatBytes(r.bytesToListener),
            formatBytes(r.bytesToDialers),
          ]),
          '(no routes)',
        );
      }),
    );
}
