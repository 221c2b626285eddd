/** StatsService: counters and gauges of the whole relay. */
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { StatsService } from '@remoted/sdk/gen/remoted/admin/v1/stats_service_pb';
import type { HandlersOf } from './grpc-handlers';
import type { RelayStats } from './relay-stats';

export function statsServiceHandlers(stats: RelayStats): HandlersOf<typeof StatsService> {
  return {
    getStats() {
      const s = stats.snapshot();
      return {
        startTime: timestampFromDate(s.startTime),
        routes: s.routes,
        links: s.links,
        waitingDialers: s.waitingDialers,
        routesOpened: BigInt(s.routesOpened),
        routesClosed: BigInt(s.routesClosed),
        linksOpened: BigInt(s.linksOpened),
        linksClosed: BigInt(s.linksClosed),
        dialersUnlinked: BigInt(s.dialersUnlinked),
        bytesToListeners: BigInt(s.bytesToListeners),
        bytesToDialers: BigInt(s.bytesToDialers),
      };
    },
  };
}
