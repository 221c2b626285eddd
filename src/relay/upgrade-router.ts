/**
 * The one 'upgrade' handler of the relay port: it takes the socket over,
 * authenticates the request on its own, and hands the socket to its next
 * owner: a listener (WebSocket), a waiting dialer, or a link (dial-back).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KeyAuthenticator } from '../keys/key-authenticator';
import { replyError, replyUpgradeRequired } from './http-reply';
import type { LinkBroker } from './link-broker';
import type { ListenerAcceptor } from './listener-acceptor';
import type { RelayContext } from './relay-context';
import type { SocketTracker } from './socket-tracker';
import { apiKeyOf, parseWebRouteRequest, routePath, upgradeKind } from './webroute-handshake';

export class UpgradeRouter {
  private closing = false;

  constructor(
    private readonly ctx: RelayContext,
    private readonly auth: KeyAuthenticator,
    private readonly acceptor: ListenerAcceptor,
    private readonly broker: LinkBroker,
    private readonly tracker: SocketTracker,
  ) {}

  /** Stops taking requests: each new one is answered 503. */
  stop(): void {
    this.closing = true;
  }

  readonly handle = (req: IncomingMessage, duplex: Duplex, head: Buffer): void => {
    const socket = duplex as Socket;
    socket.on('error', destroyOnError);
    this.tracker.track(socket);
    this.route(req, socket, head).catch((err: unknown) => {
      this.ctx.log.error({ err }, 'bug: upgrade handling failed');
      socket.destroy();
    });
  };

  private async route(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    if (this.closing) return replyError(socket, 'over_capacity', 'The relay is shutting down.');
    if (req.method !== 'GET') return replyError(socket, 'invalid_request', 'Expected a GET upgrade request.');
    const kind = upgradeKind(req);
    if (kind === 'other') return replyError(socket, 'invalid_request', 'Expected an upgrade to websocket or webroute.');

    const path = routePath(req.url);
    // Nothing is read while the key is looked up; the kernel holds what comes.
    socket.pause();
    const key = await this.auth.authenticate(apiKeyOf(req), path);
    if (socket.destroyed) return;
    if (!key || key.role === 'admin') return replyError(socket, 'invalid_missing_apikey');

    if (kind === 'websocket') {
      if (key.role !== 'server') return replyError(socket, 'invalid_request', 'Only a server key can open a listener.');
      return this.acceptor.accept(req, socket, head, key, path);
    }
    const webRoute = parseWebRouteRequest(req);
    if (!webRoute.ok) {
      if (webRoute.problem === 'version') return replyUpgradeRequired(socket);
      return replyError(socket, 'invalid_request', 'Missing WebRoute-ID header.');
    }
    const call = { socket, head, key, path, id: webRoute.id, requestedTimeoutSeconds: webRoute.requestedTimeoutSeconds };
    if (key.role === 'client') return this.broker.dial(call);
    return this.broker.dialBack(call);
  }
}

function destroyOnError(this: Socket): void {
  this.destroy();
}
