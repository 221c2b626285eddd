/** `remoted disconnect route|link|key`: forced disconnects. */
import type { Command } from 'commander';
import { CloseKeyConnectionsResponseSchema } from '../../gen/remoted/admin/v1/key_service_pb';
import { CloseLinkResponseSchema } from '../../gen/remoted/admin/v1/link_service_pb';
import { CloseRouteResponseSchema } from '../../gen/remoted/admin/v1/route_service_pb';
import type { CliContext } from '../cli-context';
import { type AdminOptions, withAdminClient, withAdminOptions } from './admin-connection';
import { idOf, printJson } from './output';

export function registerDisconnect(program: Command, { log }: CliContext): void {
  const disconnect = program.command('disconnect').description('close a route, a link, or everything a key opened (admin key needed)');

  withAdminOptions(disconnect.command('route'))
    .description("close a route's listener (its waiting dialers are answered 502)")
    .argument('<route>', 'a path (/db/primary) or a route id or name (routes/lsn_…)')
    .option('--links', "also close the route's open links")
    .action((route: string, opts: AdminOptions & { links?: boolean }) =>
      withAdminClient(opts, log, async (client) => {
        const byPath = route.startsWith('/');
        const closed = await client.routes.closeRoute({ path: byPath ? route : '', name: byPath ? '' : route, closeLinks: opts.links });
        if (opts.json) return printJson(CloseRouteResponseSchema, closed);
        process.stdout.write(`closed route ${closed.route?.path ?? route}; closed ${closed.closedLinks} links\n`);
      }),
    );

  withAdminOptions(disconnect.command('link'))
    .description('close one link, both sides at once')
    .argument('<link>', 'link id or name (links/lnk_…)')
    .action((link: string, opts: AdminOptions) =>
      withAdminClient(opts, log, async (client) => {
        const closed = await client.links.closeLink({ name: link });
        if (opts.json) return printJson(CloseLinkResponseSchema, closed);
        process.stdout.write(`closed link ${idOf(closed.link?.name ?? link)} on ${closed.link?.path ?? '?'}\n`);
      }),
    );

  withAdminOptions(disconnect.command('key'))
    .description('close every listener and link a key opened (the key stays usable; see keys revoke)')
    .argument('<key>', 'key id or name (keys/key_…)')
    .action((key: string, opts: AdminOptions) =>
      withAdminClient(opts, log, async (client) => {
        const closed = await client.keys.closeKeyConnections({ name: key });
        if (opts.json) return printJson(CloseKeyConnectionsResponseSchema, closed);
        process.stdout.write(`closed ${closed.closedRoutes} routes, ${closed.closedLinks} links of ${idOf(key)}\n`);
      }),
    );
}
