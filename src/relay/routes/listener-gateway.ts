/**
 * The listeners' WebSocket as a Nest gateway (the design card's
 * @nestjs/platform-ws). The upgrade router stays the relay port's only
 * 'upgrade' handler: it authenticates and admits a listener, then hands the
 * upgrade here. The gateway writes the 101 (with the granted features), opens
 * the WebSocket, and dispatches the frames a listener sends on their `op`
 * (ListenerWsAdapter's parser). Links never pass through it.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type OnGatewayConnection, type OnGatewayInit, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { ListenerOpMessage } from '@remoted/sdk/wire/protocol';
import type { WebSocket, WebSocketServer } from 'ws';
import { replyError } from '../port/http-reply';
import type { ListenerConnection } from './listener-connection';

/** Makes the opened WebSocket a listener of its route. */
export type OpenListener = (ws: WebSocket) => ListenerConnection;

@WebSocketGateway()
export class ListenerGateway implements OnGatewayInit<WebSocketServer>, OnGatewayConnection<WebSocket> {
  private server: WebSocketServer | undefined;
  /** Upgrades being completed: handleUpgrade answers synchronously, so each lives for one call. */
  private readonly opening = new WeakMap<IncomingMessage, OpenListener>();
  private readonly listeners = new WeakMap<WebSocket, ListenerConnection>();
  /** Extension headers of the 101 being written. */
  private pendingHeaders: readonly string[] = [];

  afterInit(server: WebSocketServer): void {
    this.server = server;
    // ws answers a malformed handshake itself in plain text unless told otherwise:
    // every refusal is the protocol's JSON error.
    server.on('wsClientError', (err, socket) => replyError(socket, 'invalid_request', `Invalid WebSocket handshake: ${err.message}`));
    server.on('headers', (headers) => headers.push(...this.pendingHeaders));
  }

  /** Completes an admitted listener's upgrade: its 101 carries `headers`; `open` runs once the WebSocket is open. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer, headers: readonly string[], open: OpenListener): void {
    const server = this.server;
    if (!server) return replyError(socket, 'over_capacity', 'The relay is starting.');
    this.opening.set(req, open);
    this.pendingHeaders = headers;
    try {
      server.handleUpgrade(req, socket, head, (ws) => server.emit('connection', ws, req));
    } finally {
      this.pendingHeaders = [];
      this.opening.delete(req);
    }
  }

  handleConnection(ws: WebSocket, req: IncomingMessage): void {
    const open = this.opening.get(req);
    // Only upgrades handed over by the router open a WebSocket here.
    if (!open) return ws.terminate();
    this.listeners.set(ws, open(ws));
  }

  @SubscribeMessage('drain')
  onDrain(ws: WebSocket, op: ListenerOpMessage): void {
    this.listeners.get(ws)?.opReceived(op);
  }

  @SubscribeMessage('refuse')
  onRefuse(ws: WebSocket, op: ListenerOpMessage): void {
    this.listeners.get(ws)?.opReceived(op);
  }
}
