/** A RouteListener as the pure parts of the routes room see one: plain fields, actions that do nothing. */
import type { ListenerState, RouteListener } from '../../../../src/relay/routes/listener-table';

export interface RouteListenerFields {
  path?: string;
  keyId?: string;
  state?: ListenerState;
  activeLinks?: number;
  spareCount?: number;
  lastOffer?: number;
}

export function routeListener(id: string, over: RouteListenerFields = {}): RouteListener {
  return {
    id,
    path: over.path ?? '/p',
    keyId: over.keyId ?? 'key_a',
    address: '127.0.0.1:1',
    since: new Date(0),
    policy: 'pool',
    state: over.state ?? 'active',
    features: [],
    activeLinks: over.activeLinks ?? 0,
    slowDialbacks: 0,
    spareCount: over.spareCount ?? 0,
    lastOffer: over.lastOffer ?? 0,
    markOffered: () => undefined,
    notify: () => true,
    ping: () => undefined,
    drain: () => true,
    countLink: () => undefined,
    countSlowDialback: () => undefined,
    close: () => undefined,
  };
}
