/** Turns an authenticated WebSocket upgrade into a listener of a route. */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  FEATURE_DRAIN,
  FEATURE_REFUSE,
  FEATURE_SPARE,
  HEADER_FEATURES,
  randomToken,
} from '@remoted/sdk/wire/protocol';
import { hasFeature } from '@remoted/sdk/wire/features';
import { encodeListenerGrant } from '@remoted/sdk/wire/listener-grant';
import type { ApiKey } from '../keys/api-key';
import { replyError } from './http-reply';
import { ListenerConnection, type ListenerHooks } from './listener-connection';
import type { ListenerGateway } from './listener-gateway';
import { endWaitingDialer } from './end-waiting-dialer';
import { offerDialer, offerElsewhereOrEnd } from './redirect-dialer';
import type { RelayContext } from './relay-context';
import { type RouteCloseReason, routeSnapshotOf } from './relay-events';
import { admitListener, pickListener } from './route-admission';
import type { DrainedBy } from './route-registry';
import { keyLimitsOf } from './key-limits';

export class ListenerAcceptor {
  constructor(
    private readonly ctx: RelayContext,
    private readonly gateway: ListenerGateway,
  ) {}

  /** `address`: the listener's in the protocol's `ipaddr` form (see client-address.ts). */
  accept(req: IncomingMessage, socket: Socket, head: Buffer, key: ApiKey, path: string, address: string): void {
    const { registry, config } = this.ctx;
    const policy = key.routePolicy ?? config.routes.policy;
    const admission = admitListener(registry.listenersOn(path), { id: key.id, policy, poolSize: key.poolSize ?? config.routes.poolSize });
    if (!admission.admitted) return replyError(socket, 'path_in_use', admission.message);
    if (registry.listenerCount() - admission.replaces.length >= config.limits.maxRoutes) {
      this.ctx.log.warn({ route: path, limit: config.limits.maxRoutes }, 'routes limit reached');
      this.ctx.events.emit('capacity:reached', { limit: 'routes', path });
      return replyError(socket, 'over_capacity', 'The relay has too many routes open.');
    }
    const { maxRoutes } = keyLimitsOf(key, config.limits);
    if (registry.listenerCountOf(key.id) - admission.replaces.length >= maxRoutes) {
      this.ctx.log.warn({ route: path, key: key.id, limit: maxRoutes }, 'routes per key limit reached');
      this.ctx.events.emit('capacity:reached', { limit: 'routes_per_key', path });
      return replyError(socket, 'over_capacity', `This key has its ${maxRoutes} routes open already.`);
    }
    const id = `lsn_${randomToken(16)}`;
    const features = this.grantedFeatures(req);
    const grant = encodeListenerGrant({
      listenerId: id,
      drain: features.includes(FEATURE_DRAIN),
      spares: features.includes(FEATURE_SPARE) ? this.ctx.config.routes.sparesPerListener : 0,
      refuse: features.includes(FEATURE_REFUSE),
    });
    this.gateway.upgrade(req, socket, head, grant, (ws) => {
      // The router paused the socket during authentication; ws reads it from now on.
      socket.resume();
      const listener = new ListenerConnection({ id, path, keyId: key.id, address, policy, features }, ws, this.hooks);
      registry.addListener(listener);
      this.ctx.log.info({ listener: id, route: path, key: key.id, address, policy, features }, 'listener opened');
      this.ctx.events.emit('route:open', routeSnapshotOf(listener));
      for (const replaced of admission.replaces) replaced.close('replaced');
      return listener;
    });
  }

  private grantedFeatures(req: IncomingMessage): string[] {
    const asked = req.headers[HEADER_FEATURES];
    const granted: string[] = [];
    if (hasFeature(asked, FEATURE_DRAIN)) granted.push(FEATURE_DRAIN);
    if (hasFeature(asked, FEATURE_SPARE) && this.ctx.config.routes.sparesPerListener > 0) granted.push(FEATURE_SPARE);
    if (hasFeature(asked, FEATURE_REFUSE)) granted.push(FEATURE_REFUSE);
    return granted;
  }

  private readonly hooks: ListenerHooks = {
    onClosed: (listener: ListenerConnection, reason: RouteCloseReason): void => {
      const { registry, spares } = this.ctx;
      if (!registry.removeListener(listener)) return;
      for (const spare of spares.removeListener(listener.id)) spare.answerListenerGone();
      // Dialers it was told of go to another listener of the path, or are answered 502.
      const told = [...registry.waitingDialersOn(listener.path)].filter((dialer) => dialer.listenerId === listener.id);
      for (const dialer of told) offerElsewhereOrEnd(this.ctx, dialer);
      this.ctx.log.info({ listener: listener.id, route: listener.path, reason, dialersMoved: told.length }, 'listener closed');
      this.ctx.events.emit('route:close', { ...routeSnapshotOf(listener), reason });
    },
    onDrained: (listener: ListenerConnection, by: DrainedBy): void => {
      for (const spare of this.ctx.spares.removeListener(listener.id)) spare.answerListenerGone();
      this.ctx.log.info({ listener: listener.id, route: listener.path, by, links: listener.activeLinks }, 'listener draining');
      this.ctx.events.emit('route:drain', { ...routeSnapshotOf(listener), by });
    },
    onRefused: (listener: ListenerConnection, dialId: string, reason: string): void => {
      const dialer = this.ctx.registry.findWaitingDialer(listener.path, dialId);
      // Only the listener the dial was offered to last may refuse it: a stale id, or one offered elsewhere since, changes nothing.
      if (!dialer || dialer.listenerId !== listener.id) return;
      this.ctx.log.info({ listener: listener.id, route: listener.path, dialer: dialer.address, reason }, 'listener refused a dial');
      // In a pool, another member not told yet may serve it; the last one to refuse is answered.
      const next = pickListener(this.ctx.registry.listenersOn(listener.path), dialer.tried, false);
      if (next && offerDialer(this.ctx, dialer, next)) return;
      endWaitingDialer(this.ctx, dialer, 'refused', reason);
    },
    spareCount: (listener: ListenerConnection): number => this.ctx.spares.countFor(listener.id),
  };
}
