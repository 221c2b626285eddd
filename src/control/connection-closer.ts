/**
 * Forced disconnects. The relay's own close methods do the work (and remove
 * what they close from the registry, and emit the close events); this only
 * picks what to close.
 */
import { endWaitingDialer } from '../relay/end-waiting-dialer';
import type { RelayEvents } from '../relay/relay-events';
import type { RouteListener, RouteRegistry } from '../relay/route-registry';

export interface ClosedCounts {
  closedRoutes: number;
  closedLinks: number;
}

export class ConnectionCloser {
  constructor(
    private readonly registry: RouteRegistry,
    private readonly events: RelayEvents,
  ) {}

  /** Closes the listener (its waiting dialers are answered 502 by the relay) and, if asked, its links. */
  closeRoute(listener: RouteListener, closeLinks: boolean): number {
    // Links first: once the listener is gone nothing new can join them.
    const links = closeLinks ? [...this.registry.links()].filter((link) => link.snapshot().listenerId === listener.id) : [];
    for (const link of links) link.destroy('forced');
    listener.close('forced');
    return links.length;
  }

  /** Every listener, link and waiting dialer that the key opened. */
  closeKeyConnections(keyId: string): ClosedCounts {
    const { registry } = this;
    const listeners = [...registry.listeners()].filter((listener) => listener.keyId === keyId);
    const links = [...registry.links()].filter((link) => {
      const snapshot = link.snapshot();
      return snapshot.dialerKeyId === keyId || snapshot.listenerKeyId === keyId;
    });
    for (const link of links) link.destroy('forced');
    for (const listener of listeners) listener.close('forced');
    // A dialer of this key still waiting would otherwise be linked when its
    // listener dials back, since the dial-back checks only the server key.
    for (const dialer of [...registry.waitingDialers()].filter((d) => d.key.id === keyId)) {
      endWaitingDialer({ registry, events: this.events }, dialer, 'key_severed');
    }
    return { closedRoutes: listeners.length, closedLinks: links.length };
  }
}
