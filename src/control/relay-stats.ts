/**
 * Relay-wide stats for the control plane: counts from the relay's one tally,
 * gauges read from the registry when asked, bytes of open links added then.
 */
import type { RelayTally } from '../relay/relay-tally';
import type { RouteRegistry } from '../relay/route-registry';

export interface StatsSnapshot {
  startTime: Date;
  routes: number;
  links: number;
  waitingDialers: number;
  routesOpened: number;
  routesClosed: number;
  linksOpened: number;
  linksClosed: number;
  dialersUnlinked: number;
  bytesToListeners: number;
  bytesToDialers: number;
}

export class RelayStats {
  readonly startTime = new Date();

  constructor(
    private readonly registry: RouteRegistry,
    private readonly tally: RelayTally,
  ) {}

  snapshot(): StatsSnapshot {
    const { registry, tally } = this;
    let bytesToListeners = tally.closedBytesToListeners;
    let bytesToDialers = tally.closedBytesToDialers;
    for (const link of registry.links()) {
      bytesToListeners += link.bytesToListener;
      bytesToDialers += link.bytesToDialer;
    }
    return {
      startTime: this.startTime,
      routes: registry.listenerCount(),
      links: registry.linkCount(),
      waitingDialers: registry.waitingDialerCount(),
      routesOpened: tally.routesOpened,
      routesClosed: tally.routesClosed,
      linksOpened: tally.linksOpened,
      linksClosed: tally.linksClosedTotal,
      dialersUnlinked: tally.dialsUnlinked,
      bytesToListeners,
      bytesToDialers,
    };
  }
}
