/**
 * Relay-wide stats for the control plane: counts from the relay's one tally,
 * gauges read through the relay's door when asked, bytes of open links added then.
 */
import type { RelayAdmin } from '../relay/relay-admin';
import type { RelayTally } from '../relay/relay-tally';

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
    private readonly relay: RelayAdmin,
    private readonly tally: RelayTally,
  ) {}

  snapshot(): StatsSnapshot {
    const { relay, tally } = this;
    const open = relay.openLinkBytes();
    const counts = relay.counts();
    return {
      startTime: this.startTime,
      routes: counts.routes,
      links: counts.links,
      waitingDialers: counts.waitingDialers,
      routesOpened: tally.routesOpened,
      routesClosed: tally.routesClosed,
      linksOpened: tally.linksOpened,
      linksClosed: tally.linksClosedTotal,
      dialersUnlinked: tally.dialsUnlinked,
      bytesToListeners: tally.closedBytesToListeners + open.toListeners,
      bytesToDialers: tally.closedBytesToDialers + open.toDialers,
    };
  }
}
