/** `remoted disconnect route|link|key`: forced disconnects. */
import type { Command } from 'commander';
import { CloseKeyConnectionsResponseSchema } from '../../gen/remoted/admin/v1/key_service_pb';
import { CloseLinkResponseSchema } from '../../gen/remoted/admin/v1/link_service_pb';
import { CloseRouteMode, CloseRouteResponseSchema } from '../../gen/remoted/admin/v1/route_service_pb';
import type { CliContext } from '../cli-context';
import { type AdminOptions, withAdminClient, withAdminOptions } from './admin-connection';
import { idOf, printJson } from './output';

export function registerDisconnect(program: Command, { log }: CliContext): void {
  const disconnect = program.command('disconnect').description('close a route, a link, or everything a key opened (admin key needed)');

  withAdminOptions(disconnect.command('route'))
    .description("close a route's listener (its waiting dialers are answered 502): a kick it may reconnect after, or --for-good")
    .argument('<route>', 'a path (/db/primary) or a route id or name (routes/lsn_…)')
    .option('--links', "also close the route's open links")
    .option('--for-good', 'tell the listener not to come back (WebSocket close 4004): remoted expose exits 8 with the reason')
    .option('--reason <text>', 'told to the listener in the close (one line, at most 120 bytes)')
    .addHelpText(
      'after',
      '\nWithout --for-good the listener is kicked and may reconnect (remoted expose does, at once).\n' +
        'The relay does not bar the key from the path: a listener that ignores 4004 may listen again; revoke its key to keep it off.\n' +
        '\nExample:\n  remoted disconnect route /echo --for-good --reason "moved to /echo2"',
    )
    .action((route: string, opts: AdminOptions & { links?: boolean; forGood?: boolean; reason?: string }) =>
      withAdminClient(opts, log, async (client) => {
        const byPath = route.startsWith('/');
        const closed = await client.routes.closeRoute({
          path: byPath ? route : '',
          name: byPath ? '' : route,
          closeLinks: opts.links,
          mode: opts.forGood ? CloseRouteMode.FOR_GOOD : CloseRouteMode.KICK,
          reason: opts.reason ?? '',
        });
        if (opts.json) return printJson(CloseRouteResponseSchema, closed);
        const path = closed.route?.path ?? route;
        const what =
          closed.mode === CloseRouteMode.FOR_GOOD
            ? `closed route ${path} for good${opts.reason ? ` (${opts.reason})` : ''}: a listener of our SDK does not come back`
            : `kicked route ${path}: its listener may reconnect (use --for-good to keep it away)`;
        process.stdout.write(`${what}; closed ${closed.closedLinks} links\n`);
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
