/** What an in-process relay holds right now: registry sizes and taken-over sockets. */
import { ROUTE_REGISTRY } from '../../../src/relay/relay.constants';
import { RelayService } from '../../../src/relay/relay.service';
import type { RouteRegistry } from '../../../src/relay/route-registry';
import type { StartedRelay } from '../../helpers/start-relay';

export interface RelayCounts {
  listeners: number;
  waitingDialers: number;
  links: number;
  sockets: number;
}

export function countIn(iterable: Iterable<unknown>): number {
  let n = 0;
  for (const _ of iterable) n++;
  return n;
}

export function relayCounts(relay: StartedRelay): RelayCounts {
  const registry = relay.app.get<RouteRegistry>(ROUTE_REGISTRY);
  return {
    listeners: countIn(registry.listeners()),
    waitingDialers: countIn(registry.waitingDialers()),
    links: countIn(registry.links()),
    sockets: relay.app.get(RelayService).tracker.size,
  };
}

export const ZERO: RelayCounts = { listeners: 0, waitingDialers: 0, links: 0, sockets: 0 };

export function sameCounts(a: RelayCounts, b: RelayCounts): boolean {
  return a.listeners === b.listeners && a.waitingDialers === b.waitingDialers && a.links === b.links && a.sockets === b.sockets;
}
