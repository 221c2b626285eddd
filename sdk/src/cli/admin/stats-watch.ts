/** `remoted stats` and `remoted watch`: the relay's figures, and its events as they happen. */
import { toJson } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import { type Event, EventSchema } from '../../gen/remoted/admin/v1/event_service_pb';
import { LinkCloseReason } from '../../gen/remoted/admin/v1/link_pb';
import { DrainedBy, RouteCloseReason } from '../../gen/remoted/admin/v1/route_pb';
import { GetStatsResponseSchema } from '../../gen/remoted/admin/v1/stats_service_pb';
import type { CliContext } from '../cli-context';
import { type AdminOptions, withAdminClient, withAdminOptions } from './admin-connection';
import { enumLabel, formatBytes, formatTime, idOf, printJson, printTable } from './output';

export function registerStatsWatch(program: Command, ctx: CliContext): void {
  withAdminOptions(program.command('stats'))
    .description("the relay's counters and gauges (admin key needed)")
    .action((opts: AdminOptions) =>
      withAdminClient(opts, ctx.log, async (client) => {
        const s = await client.stats.getStats({});
        if (opts.json) return printJson(GetStatsResponseSchema, s);
        printTable(
          ['FIGURE', 'VALUE'],
          [
            ['since', formatTime(s.startTime)],
            ['routes open', String(s.routes)],
            ['links open', String(s.links)],
            ['dialers waiting', String(s.waitingDialers)],
            ['routes opened / closed', `${s.routesOpened} / ${s.routesClosed}`],
            ['links opened / closed', `${s.linksOpened} / ${s.linksClosed}`],
            ['dialers never linked', String(s.dialersUnlinked)],
            ['bytes to listeners', formatBytes(s.bytesToListeners)],
            ['bytes to dialers', formatBytes(s.bytesToDialers)],
          ],
        );
      }),
    );

  withAdminOptions(program.command('watch'))
    .description("print the relay's events as they happen, until Ctrl-C (admin key needed)")
    .action((opts: AdminOptions) =>
      withAdminClient(opts, ctx.log, async (client) => {
        const stream = client.watch();
        void ctx.untilSignal().then(() => stream.cancel());
        for await (const event of stream) {
          process.stdout.write(`${opts.json ? JSON.stringify(toJson(EventSchema, event)) : describe(event)}\n`);
        }
      }),
    );
}

function describe(event: Event): string {
  const at = formatTime(event.time);
  const { kind } = event;
  switch (kind.case) {
    case 'routeOpened':
      return `${at} route opened  ${kind.value.route?.path} by ${idOf(kind.value.route?.key ?? '')} from ${kind.value.route?.listenerAddress}`;
    case 'routeClosed':
      return `${at} route closed  ${kind.value.route?.path} (${enumLabel(RouteCloseReason, kind.value.reason)})`;
    case 'routeDrainStarted':
      return `${at} route draining ${kind.value.route?.path} ${idOf(kind.value.route?.name ?? '')} (by ${enumLabel(DrainedBy, kind.value.by)})`;
    case 'slowDialback':
      return `${at} slow dial-back ${kind.value.path} ${idOf(kind.value.route)} (offered to another listener)`;
    case 'linkOpened':
      return `${at} link opened   ${idOf(kind.value.link?.name ?? '')} ${kind.value.link?.path} from ${kind.value.link?.dialerAddress}`;
    case 'linkClosed': {
      const link = kind.value.link;
      const bytes = link ? `${formatBytes(link.bytesToListener)} up, ${formatBytes(link.bytesToDialer)} down` : '';
      return `${at} link closed   ${idOf(link?.name ?? '')} ${link?.path} (${enumLabel(LinkCloseReason, kind.value.reason)}) ${bytes}`;
    }
    case 'keyCreated':
      return `${at} key created   ${idOf(kind.value.key?.name ?? '')} ${kind.value.key?.label ?? ''}`;
    case 'keyRevoked':
      return `${at} key revoked   ${idOf(kind.value.key?.name ?? '')}`;
    default:
      return `${at} event #${event.sequence}`;
  }
}
