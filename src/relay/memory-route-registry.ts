/** The route registry of one relay process. */
import type { Link } from './link';
import type { AddDialerResult, RouteListener, RouteRegistry } from './route-registry';
import type { WaitingDialer } from './waiting-dialer';

export class MemoryRouteRegistry implements RouteRegistry {
  private readonly routes = new Map<string, RouteListener>();
  /** path -> (id -> dialer) */
  private readonly waiting = new Map<string, Map<string, WaitingDialer>>();
  private waitingTotal = 0;
  private readonly linksById = new Map<string, Link>();

  claimRoute(listener: RouteListener): boolean {
    if (this.routes.has(listener.path)) return false;
    this.routes.set(listener.path, listener);
    return true;
  }

  releaseRoute(listener: RouteListener): WaitingDialer[] {
    if (this.routes.get(listener.path) !== listener) return [];
    this.routes.delete(listener.path);
    const dialers = [...(this.waiting.get(listener.path)?.values() ?? [])].filter((d) => d.listenerId === listener.id);
    for (const dialer of dialers) this.removeWaitingDialer(dialer);
    return dialers;
  }

  findListener(path: string): RouteListener | undefined {
    return this.routes.get(path);
  }

  listeners(): Iterable<RouteListener> {
    return this.routes.values();
  }

  listenerCount(): number {
    return this.routes.size;
  }

  addWaitingDialer(dialer: WaitingDialer, maxPerRoute: number): AddDialerResult {
    let byId = this.waiting.get(dialer.path);
    if (byId?.has(dialer.id)) return 'duplicate_id';
    if ((byId?.size ?? 0) >= maxPerRoute) return 'route_full';
    if (!byId) this.waiting.set(dialer.path, (byId = new Map()));
    byId.set(dialer.id, dialer);
    this.waitingTotal++;
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
    if (byId.size === 0) this.waiting.delete(dialer.path);
    return true;
  }

  *waitingDialers(): Iterable<WaitingDialer> {
    for (const byId of this.waiting.values()) yield* byId.values();
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
