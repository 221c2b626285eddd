/** What an in-process relay holds right now: its tables' sizes and taken-over sockets. */
import { RelayAdmin } from '../../../src/relay/relay-admin';
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
  const counts = relay.app.get(RelayAdmin).counts();
  return { listeners: counts.routes, waitingDialers: counts.waitingDialers, links: counts.links, sockets: counts.connections };
}

export const ZERO: RelayCounts = { listeners: 0, waitingDialers: 0, links: 0, sockets: 0 };

export function sameCounts(a: RelayCounts, b: RelayCounts): boolean {
  return a.listeners === b.listeners && a.waitingDialers === b.waitingDialers && a.links === b.links && a.sockets === b.sockets;
}
