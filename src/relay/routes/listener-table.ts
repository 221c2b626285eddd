/**
 * Who listens where on this node: the routes room's table. It holds live
 * listener connections, so it is node-local by nature; where a path's
 * listener is across several nodes is a directory's question, not this one's.
 */
import type { NotifyMessage } from '@remoted/sdk/wire/protocol';
import type { RoutePolicy } from '../../keys/route-policy';
import type { RouteCloseReason } from '../context/relay-events';
import { PerKeyCount } from './per-key-count';

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

const NONE: readonly RouteListener[] = [];

export class ListenerTable {
  /** path -> its listeners in the order they joined */
  private readonly byPath = new Map<string, RouteListener[]>();
  private readonly byId = new Map<string, RouteListener>();
  private readonly perKey = new PerKeyCount();

  add(listener: RouteListener): void {
    const onPath = this.byPath.get(listener.path);
    if (onPath) onPath.push(listener);
    else this.byPath.set(listener.path, [listener]);
    this.byId.set(listener.id, listener);
    this.perKey.add(listener.keyId);
  }

  /** False when it was not (or no longer) here. */
  remove(listener: RouteListener): boolean {
    if (this.byId.get(listener.id) !== listener) return false;
    this.byId.delete(listener.id);
    this.perKey.remove(listener.keyId);
    const rest = (this.byPath.get(listener.path) ?? NONE).filter((l) => l !== listener);
    if (rest.length > 0) this.byPath.set(listener.path, rest);
    else this.byPath.delete(listener.path);
    return true;
  }

  /** The listeners of a path in the order they joined, draining ones included. */
  on(path: string): readonly RouteListener[] {
    return this.byPath.get(path) ?? NONE;
  }

  find(id: string): RouteListener | undefined {
    return this.byId.get(id);
  }

  all(): Iterable<RouteListener> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  /** Listeners (draining ones included) opened with this key. */
  countOf(keyId: string): number {
    return this.perKey.of(keyId);
  }

  /** Paths with at least one listener. */
  get pathCount(): number {
    return this.byPath.size;
  }
}
