/** Turns an authenticated WebSocket upgrade into the listener of a route. */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { randomToken } from '@remoted/sdk/protocol';
import type { ApiKey } from '../keys/api-key';
import { endWaitingDialer } from './end-waiting-dialer';
import { replyError } from './http-reply';
import { ListenerConnection } from './listener-connection';
import type { RelayContext } from './relay-context';
import type { RouteCloseReason } from './relay-events';

export class ListenerAcceptor {
  private readonly wss: WebSocketServer;

  constructor(private readonly ctx: RelayContext) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: ctx.config.limits.maxListenerMessageBytes,
    });
    // ws answers a malformed handshake itself in plain text unless told otherwise:
    // every refusal is the protocol's JSON error.
    this.wss.on('wsClientError', (err, socket) => {
      replyError(socket, 'invalid_request', `Invalid WebSocket handshake: ${err.message}`);
    });
  }

  /** `address`: the listener's in the protocol's `ipaddr` form (see client-address.ts). */
  accept(req: IncomingMessage, socket: Socket, head: Buffer, key: ApiKey, path: string, address: string): void {
    const { registry, config } = this.ctx;
    if (registry.findListener(path)) {
      replyError(socket, 'path_in_use');
      return;
    }
    if (registry.listenerCount() >= config.limits.maxRoutes) {
      this.ctx.log.warn({ route: path, limit: config.limits.maxRoutes }, 'routes limit reached');
      this.ctx.events.emit('capacity:reached', { limit: 'routes', path });
      replyError(socket, 'over_capacity', 'The relay has too many routes open.');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // The router paused the socket during authentication; ws reads it from now on.
      socket.resume();
      const listener = new ListenerConnection(`lsn_${randomToken(16)}`, path, key.id, address, ws, this.onClosed);
      // handleUpgrade completes synchronously without verifyClient, so the
      // check above still holds; a failed claim here would be a bug.
      if (!registry.claimRoute(listener)) {
        listener.terminate();
        return;
      }
      const snapshot = { listenerId: listener.id, path, keyId: key.id, listenerAddress: address, since: listener.since };
      this.ctx.log.info({ listener: listener.id, route: path, key: key.id, address }, 'listener opened');
      this.ctx.events.emit('route:open', snapshot);
    });
  }

  close(): void {
    this.wss.close();
  }

  private readonly onClosed = (listener: ListenerConnection, reason: RouteCloseReason): void => {
    const dialers = this.ctx.registry.releaseRoute(listener);
    for (const dialer of dialers) endWaitingDialer(this.ctx, dialer, 'listener_gone');
    this.ctx.log.info({ listener: listener.id, route: listener.path, reason, dialersAnswered: dialers.length }, 'listener closed');
    this.ctx.events.emit('route:close', {
      listenerId: listener.id,
      path: listener.path,
      keyId: listener.keyId,
      listenerAddress: listener.address,
      since: listener.since,
      reason,
    });
  };
}
