/**
 * Who listens where, who waits for a dial-back, and which links are up. The
 * upgrade router only talks to this interface, so a shared registry (several
 * relays) can replace the in-memory one without touching it.
 */
import type { NotifyMessage } from '@remoted/sdk/protocol';
import type { Link } from './link';
import type { RouteCloseReason } from './relay-events';
import type { WaitingDialer } from './waiting-dialer';

export interface RouteListener {
  readonly id: string;
  readonly path: string;
  readonly keyId: string;
  readonly address: string;
  readonly since: Date;
  /** Tells the listener that a dialer waits; false when it could not be sent. */
  notify(message: NotifyMessage): boolean;
  /** One ping round; a listener that missed the previous one is dropped. */
  ping(): void;
  close(reason: RouteCloseReason): void;
}

export type AddDialerResult = 'added' | 'duplicate_id' | 'route_full';

export interface RouteRegistry {
  /** Makes the listener the route's owner; false when the path is taken. */
  claimRoute(listener: RouteListener): boolean;
  /** Frees the route if this listener holds it; returns the dialers that waited on it. */
  releaseRoute(listener: RouteListener): WaitingDialer[];
  findListener(path: string): RouteListener | undefined;
  listeners(): Iterable<RouteListener>;
  listenerCount(): number;

  addWaitingDialer(dialer: WaitingDialer, maxPerRoute: number): AddDialerResult;
  findWaitingDialer(path: string, id: string): WaitingDialer | undefined;
  /** Removes the dialer; false when it was not (or no longer) waiting. */
  removeWaitingDialer(dialer: WaitingDialer): boolean;
  waitingDialers(): Iterable<WaitingDialer>;
  waitingDialerCount(path?: string): number;

  addLink(link: Link): void;
  removeLink(link: Link): void;
  findLink(id: string): Link | undefined;
  links(): Iterable<Link>;
  linkCount(): number;
}
