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
import type { ApiKey } from '../../keys/api-key';
import type { RoutePolicy } from '../../keys/route-policy';
import { keyLimitsOf } from '../../keys/key-limits';
import type { RelayContext } from '../context/relay-context';
import { type RouteCloseReason, routeSnapshotOf } from '../context/relay-events';
import { replyError } from '../port/http-reply';
import { ListenerConnection, type ListenerHooks } from './listener-connection';
import type { ListenerGateway } from './listener-gateway';
import type { DrainedBy, ListenerTable, RouteListener } from './listener-table';
import { admitListener } from './route-admission';

/**
 * What becomes of dials when a listener leaves, drains or refuses one. That
 * is the dials room's business (routes know no dialers): the face hands it in.
 */
export interface DialsOfListener {
  /** Its spares are answered, and the dialers told of it go to another listener or get 502; how many were moved. */
  listenerGone(listener: RouteListener): number;
  /** Its spares are answered: a draining listener takes no new dial. */
  listenerDraining(listener: RouteListener): void;
  /** It refused the dial it was told of under this WebRoute id (feature `refuse`). */
  refused(listener: RouteListener, dialId: string, reason: string): void;
  /** Spares it holds now. */
  spareCount(listenerId: string): number;
}

export class ListenerAcceptor {
  constructor(
    private readonly ctx: RelayContext,
    private readonly listeners: ListenerTable,
    private readonly gateway: ListenerGateway,
    private readonly dials: DialsOfListener,
  ) {}

  /** `address`: the listener's in the protocol's `ipaddr` form (see client-address.ts). */
  accept(req: IncomingMessage, socket: Socket, head: Buffer, key: ApiKey, path: string, address: string): void {
    const { config } = this.ctx;
    const { listeners } = this;
    const policy = key.routePolicy ?? config.routes.policy;
    const admission = admitListener(listeners.on(path), { id: key.id, policy, poolSize: key.poolSize ?? config.routes.poolSize });
    if (!admission.admitted) return replyError(socket, 'path_in_use', admission.message);
    if (listeners.size - admission.replaces.length >= config.limits.maxRoutes) {
      this.ctx.log.warn({ route: path, limit: config.limits.maxRoutes }, 'routes limit reached');
      this.ctx.events.emit('capacity:reached', { limit: 'routes', path });
      return replyError(socket, 'over_capacity', 'The relay has too many routes open.');
    }
    const { maxRoutes } = keyLimitsOf(key, config.limits);
    if (listeners.countOf(key.id) - admission.replaces.length >= maxRoutes) {
      this.ctx.log.warn({ route: path, key: key.id, limit: maxRoutes }, 'routes per key limit reached');
      this.ctx.events.emit('capacity:reached', { limit: 'routes_per_key', path });
      return replyError(socket, 'over_capacity', `This key has its ${maxRoutes} routes open already.`);
    }
    const id = `lsn_${randomToken(16)}`;
    const directory = this.ctx.directory;
    if (!directory) return this.open(req, socket, head, { id, key, path, address, policy }, admission.replaces);
    // Cluster mode: the policy holds across the nodes, by a lease in Redis (cluster/route-leases.ts).
    if (!directory.takesListeners) return replyError(socket, 'over_capacity', 'This relay node cannot reach the cluster\'s Redis; try again (another node may take it).');
    directory.claim({ path, listenerId: id, keyId: key.id, policy, poolSize: key.poolSize ?? config.routes.poolSize }).then(
      (claim) => {
        if (socket.destroyed) {
          if (claim.admitted) directory.release(path, id);
          return;
        }
        if (!claim.admitted) return replyError(socket, 'path_in_use', claim.message);
        // The claim is the cluster's word: it names the listeners to replace on this node too (others are closed on theirs).
        const replaces = claim.replaces.flatMap((held) => {
          const local = held.nodeId === directory.nodeId ? listeners.find(held.listenerId) : undefined;
          return local ? [local] : [];
        });
        this.open(req, socket, head, { id, key, path, address, policy }, replaces);
      },
      (err: unknown) => {
        this.ctx.log.warn({ route: path, err: err instanceof Error ? err.message : String(err) }, 'route lease not claimed');
        replyError(socket, 'over_capacity', 'This relay node cannot reach the cluster\'s Redis; try again (another node may take it).');
      },
    );
  }

  private open(req: IncomingMessage, socket: Socket, head: Buffer, opening: { id: string; key: ApiKey; path: string; address: string; policy: RoutePolicy }, replaces: readonly RouteListener[]): void {
    const { listeners } = this;
    const { id, key, path, address, policy } = opening;
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
      listeners.add(listener);
      this.ctx.log.info({ listener: id, route: path, key: key.id, address, policy, features }, 'listener opened');
      this.ctx.events.emit('route:open', routeSnapshotOf(listener));
      for (const replaced of replaces) replaced.close('replaced');
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
      if (!this.listeners.remove(listener)) return;
      this.ctx.directory?.release(listener.path, listener.id);
      const dialersMoved = this.dials.listenerGone(listener);
      this.ctx.log.info({ listener: listener.id, route: listener.path, reason, dialersMoved }, 'listener closed');
      this.ctx.events.emit('route:close', { ...routeSnapshotOf(listener), reason });
    },
    onDrained: (listener: ListenerConnection, by: DrainedBy): void => {
      this.dials.listenerDraining(listener);
      this.ctx.log.info({ listener: listener.id, route: listener.path, by, links: listener.activeLinks }, 'listener draining');
      this.ctx.events.emit('route:drain', { ...routeSnapshotOf(listener), by });
    },
    onRefused: (listener: ListenerConnection, dialId: string, reason: string): void => this.dials.refused(listener, dialId, reason),
    spareCount: (listener: ListenerConnection): number => this.dials.spareCount(listener.id),
  };
}
