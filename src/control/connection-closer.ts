/**
 * Forced disconnects of a route. The relay's own close methods do the work
 * (and remove what they close from the registry, and emit the close events);
 * this only picks what to close. What a key holds is closed by the relay
 * itself (KeyHoldings).
 */
import type { RouteListener, RouteRegistry } from '../relay/route-registry';

export class ConnectionCloser {
  constructor(private readonly registry: RouteRegistry) {}

  /**
   * Closes the listener (its waiting dialers are answered 502 by the relay) and, if asked, its links.
   * `forGood`: told not to come back (4004) rather than kicked (1008); `reason` goes in the WebSocket close.
   */
  closeRoute(listener: RouteListener, options: { closeLinks: boolean; forGood: boolean; reason: string }): number {
    // Links first: once the listener is gone nothing new can join them.
    const links = options.closeLinks ? [...this.registry.links()].filter((link) => link.snapshot().listenerId === listener.id) : [];
    for (const link of links) link.destroy('forced');
    listener.close(options.forGood ? 'closed_for_good' : 'forced', options.reason);
    return links.length;
  }
}
