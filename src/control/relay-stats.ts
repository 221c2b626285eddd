/**
 * Relay-wide counters, kept by listening to the relay's events. Gauges are
 * read from the registry when asked; bytes of open links are added then.
 */
import type { RelayEvents } from '../relay/relay-events';
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
  private routesOpened = 0;
  private routesClosed = 0;
  private linksOpened = 0;
  private linksClosed = 0;
  private dialersUnlinked = 0;
  /** Bytes of links that have closed; open links are counted live. */
  private closedBytesToListeners = 0;
  private closedBytesToDialers = 0;

  constructor(
    private readonly registry: RouteRegistry,
    private readonly events: RelayEvents,
  ) {}

  start(): void {
    this.events.on('route:open', this.onRouteOpen);
    this.events.on('route:close', this.onRouteClose);
    this.events.on('link:open', this.onLinkOpen);
    this.events.on('link:close', this.onLinkClose);
    this.events.on('dialer:end', this.onDialerEnd);
  }

  stop(): void {
    this.events.off('route:open', this.onRouteOpen);
    this.events.off('route:close', this.onRouteClose);
    this.events.off('link:open', this.onLinkOpen);
    this.events.off('link:close', this.onLinkClose);
    this.events.off('dialer:end', this.onDialerEnd);
  }

  snapshot(): StatsSnapshot {
    let routes = 0;
    for (const _ of this.registry.listeners()) routes++;
    let links = 0;
    let bytesToListeners = this.closedBytesToListeners;
    let bytesToDialers = this.closedBytesToDialers;
    for (const link of this.registry.links()) {
      links++;
      bytesToListeners += link.bytesToListener;
      bytesToDialers += link.bytesToDialer;
    }
    return {
      startTime: this.startTime,
      routes,
      links,
      waitingDialers: this.registry.waitingDialerCount(),
      routesOpened: this.routesOpened,
      routesClosed: this.routesClosed,
      linksOpened: this.linksOpened,
      linksClosed: this.linksClosed,
      dialersUnlinked: this.dialersUnlinked,
      bytesToListeners,
      bytesToDialers,
    };
  }

  private readonly onRouteOpen = (): void => void this.routesOpened++;
  private readonly onRouteClose = (): void => void this.routesClosed++;
  private readonly onLinkOpen = (): void => void this.linksOpened++;
  private readonly onDialerEnd = (): void => void this.dialersUnlinked++;
  private readonly onLinkClose = (link: { bytesToListener: number; bytesToDialer: number }): void => {
    this.linksClosed++;
    this.closedBytesToListeners += link.bytesToListener;
    this.closedBytesToDialers += link.bytesToDialer;
  };
}
