/**
 * Who listens where, who waits for a dial-back, and which links are up. The
 * data plane only talks to this interface, so a shared registry (several
 * relays) can replace the in-memory one without touching it.
 */
import type { NotifyMessage } from '@remoted/sdk/wire/protocol';
import type { RoutePolicy } from '../keys/route-policy';
import type { Link } from './link';
import type { RouteCloseReason } from './relay-events';
import type { WaitingDialer } from './waiting-dialer';

/** A draining listener gets no new dials (docs/protocol.md, drain). */
export type ListenerState = 'active' | 'draining';
export type DrainedBy = 'listener' | 'operator';

export interface RouteListener {
  readonly id: string;
  readonly path: string;
  readonly keyId: string;
  readonly address: string;
  readonly since: Date;
  /** The policy in force when it joined (its key's, or the relay's default). */
  readonly policy: RoutePolicy;
  readonly state: ListenerState;
  /** Extension features granted on its upgrade (`drain`, `spare`). */
  readonly features: readonly string[];
  /** Open links it accepted. */
  readonly activeLinks: number;
  /** Dials offered to another pool member because it did not dial back in time. */
  readonly slowDialbacks: number;
  /** Spare dial-backs it holds now. */
  readonly spareCount: number;
  /** Order of the last dial offered to it (0: never); ties in a pool go to the least recent. */
  readonly lastOffer: number;
  /** Tells the listener that a dialer waits; false when it could not be sent. */
  notify(message: NotifyMessage): boolean;
  /** One ping round; a listener that missed the previous one is dropped. */
  ping(): void;
  /** Stops new dials to it; false when it was draining already. */
  drain(by: DrainedBy): boolean;
  /** Kept by the link broker: a link of this listener opened or closed. */
  countLink(delta: 1 | -1): void;
  /** Kept by the link broker: a dial was offered elsewhere because this listener was slow. */
  countSlowDialback(): void;
  /** Kept by the link broker: a dial was offered to it (told, or given a spare). */
  markOffered(order: number): void;
  /** `operatorReason`: the WebSocket close reason of an operator's close (`forced`, `closed_for_good`), checked by the caller. */
  close(reason: RouteCloseReason, operatorReason?: string): void;
}

export type AddDialerResult = 'added' | 'duplicate_id' | 'route_full';

export interface RouteRegistry {
  addListener(listener: RouteListener): void;
  /** False when it was not (or no longer) registered. */
  removeListener(listener: RouteListener): boolean;
  /** The listeners of a path in the order they joined, draining ones included. */
  listenersOn(path: string): readonly RouteListener[];
  findListener(id: string): RouteListener | undefined;
  listeners(): Iterable<RouteListener>;
  listenerCount(): number;
  /** Listeners (draining ones included) opened with this key. */
  listenerCountOf(keyId: string): number;
  /** Paths with at least one listener. */
  pathCount(): number;

  addWaitingDialer(dialer: WaitingDialer, maxPerRoute: number): AddDialerResult;
  findWaitingDialer(path: string, id: string): WaitingDialer | undefined;
  /** Removes the dialer; false when it was not (or no longer) waiting. */
  removeWaitingDialer(dialer: WaitingDialer): boolean;
  waitingDialers(): Iterable<WaitingDialer>;
  waitingDialersOn(path: string): Iterable<WaitingDialer>;
  waitingDialerCount(path?: string): number;
  /** Dialers of this (client) key waiting now. */
  waitingDialerCountOf(keyId: string): number;

  addLink(link: Link): void;
  removeLink(link: Link): void;
  findLink(id: string): Link | undefined;
  links(): Iterable<Link>;
  linkCount(): number;
}
