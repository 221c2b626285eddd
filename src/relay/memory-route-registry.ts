/** The route registry of one relay process. */
import type { Link } from './link';
import { PerKeyCount } from './per-key-count';
import type { AddDialerResult, RouteListener, RouteRegistry } from './route-registry';
import type { WaitingDialer } from './waiting-dialer';

const NONE: readonly RouteListener[] = [];
const NO_DIALERS: readonly WaitingDialer[] = [];

export class MemoryRouteRegistry implements RouteRegistry {
  /** path -> its listeners in the order they joined */
  private readonly byPath = new Map<string, RouteListener[]>();
  private readonly byId = new Map<string, RouteListener>();
  /** path -> (id -> dialer) */
  private readonly waiting = new Map<string, Map<string, WaitingDialer>>();
  private waitingTotal = 0;
  private readonly linksById = new Map<string, Link>();
  private readonly listenersPerKey = new PerKeyCount();
  private readonly waitingPerKey = new PerKeyCount();

  addListener(listener: RouteListener): void {
    const onPath = this.byPath.get(listener.path);
    if (onPath) onPath.push(listener);
    else this.byPath.set(listener.path, [listener]);
    this.byId.set(listener.id, listener);
    this.listenersPerKey.add(listener.keyId);
  }

  removeListener(listener: RouteListener): boolean {
    if (this.byId.get(listener.id) !== listener) return false;
    this.byId.delete(listener.id);
    this.listenersPerKey.remove(listener.keyId);
    const onPath = this.byPath.get(listener.path) ?? [];
    const rest = onPath.filter((l) => l !== listener);
    if (rest.length > 0) this.byPath.set(listener.path, rest);
    else this.byPath.delete(listener.path);
    return true;
  }

  listenersOn(path: string): readonly RouteListener[] {
    return this.byPath.get(path) ?? NONE;
  }

  findListener(id: string): RouteListener | undefined {
    return this.byId.get(id);
  }

  listeners(): Iterable<RouteListener> {
    return this.byId.values();
  }

  listenerCountOf(keyId: string): number {
    return this.listenersPerKey.of(keyId);
  }

  waitingDialerCountOf(keyId: string): number {
    return this.waitingPerKey.of(keyId);
  }

  listenerCount(): number {
    return this.byId.size;
  }

  pathCount(): number {
    return this.byPath.size;
  }

  addWaitingDialer(dialer: WaitingDialer, maxPerRoute: number): AddDialerResult {
    let byId = this.waiting.get(dialer.path);
    if (byId?.has(dialer.id)) return 'duplicate_id';
    if ((byId?.size ?? 0) >= maxPerRoute) return 'route_full';
    if (!byId) this.waiting.set(dialer.path, (byId = new Map()));
    byId.set(dialer.id, dialer);
    this.waitingTotal++;
    this.waitingPerKey.add(dialer.key.id);
    return 'added';
  }

  findWaitingDialer(path: string, id: string): WaitingDialer | undefined {
    return this.waiting.get(path)?.get(id);
  }

  removeWaitingDialer(dialer: WaitingDialer): boolean {
    const byId = this.waiting.get(dialer.path);
    if (byId?.get(dialer.id) !== dialer) return false;
    byId.delete(dialer.id);
    this.waitingTotal--;
    this.waitingPerKey.remove(dialer.key.id);
    if (byId.size === 0) this.waiting.delete(dialer.path);
    return true;
  }

  *waitingDialers(): Iterable<WaitingDialer> {
    for (const byId of this.waiting.values()) yield* byId.values();
  }

  waitingDialersOn(path: string): Iterable<WaitingDialer> {
    return this.waiting.get(path)?.values() ?? NO_DIALERS;
  }

  waitingDialerCount(path?: string): number {
    return path === undefined ? this.waitingTotal : (this.waiting.get(path)?.size ?? 0);
  }

  addLink(link: Link): void {
    this.linksById.set(link.id, link);
  }

  removeLink(link: Link): void {
    if (this.linksById.get(link.id) === link) this.linksById.delete(link.id);
  }

  findLink(id: string): Link | undefined {
    return this.linksById.get(id);
  }

  links(): Iterable<Link> {
    return this.linksById.values();
  }

  linkCount(): number {
    return this.linksById.size;
  }
}
