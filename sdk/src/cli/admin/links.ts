/** `remoted links`: open links, by route, path or key. */
import { create } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import type { Link } from '../../gen/remoted/admin/v1/link_pb';
import { ListLinksResponseSchema } from '../../gen/remoted/admin/v1/link_service_pb';
import type { CliContext } from '../cli-context';
import { type AdminOptions, withAdminClient, withAdminOptions } from './admin-connection';
import { formatBytes, formatDuration, formatTime, idOf, printJson, printTable } from './output';

export function registerLinks(program: Command, { log }: CliContext): void {
  withAdminOptions(program.command('links'))
    .description('list open links with their bytes and idle time (admin key needed)')
    .option('--route <route>', 'only links of this route (id or routes/…)')
    .option('--path <path>', 'only links on this path')
    .option('--of-key <key>', 'only links this key dialed or dialed back (id or keys/…)')
    .action((opts: AdminOptions & { route?: string; path?: string; ofKey?: string }) =>
      withAdminClient(opts, log, async (client) => {
        const links: Link[] = [];
        let pageToken = '';
        do {
          const page = await client.links.listLinks({ route: opts.route, path: opts.path, key: opts.ofKey, pageSize: 1000, pageToken });
          links.push(...page.links);
          pageToken = page.nextPageToken;
        } while (pageToken);
        if (opts.json) return printJson(ListLinksResponseSchema, create(ListLinksResponseSchema, { links }));
        printTable(
          ['LINK', 'PATH', 'DIALER', 'DIALER KEY', 'SINCE', 'TO LISTENER', 'TO DIALER', 'IDLE'],
          links.map((l) => [
            idOf(l.name),
            l.path,
            l.dialerAddress,
            idOf(l.dialerKey),
            formatTime(l.openTime),
            formatBytes(l.bytesToListener),
            formatBytes(l.bytesToDialer),
            formatDuration(l.idleDuration),
          ]),
          '(no links)',
        );
      }),
    );
}
