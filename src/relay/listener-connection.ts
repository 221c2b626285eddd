/**
 * One listener's WebSocket: it receives a notify message per waiting dialer
 * and answers pings. The original ignores what a listener sends, and so do we
 * (ws bounds the message size).
 */
import type { WebSocket } from 'ws';
import type { NotifyMessage } from '@remoted/sdk/protocol';
import type { RouteListener } from './route-registry';
import type { RouteCloseReason } from './relay-events';

/** WebSocket close codes the relay uses. */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;

/** How long a listener we close may take to answer the closing handshake before it is cut. */
const CLOSE_HANDSHAKE_GRACE_MS = 1000;

export class ListenerConnection implements RouteListener {
  readonly since = new Date();
  private alive = true;
  private closeReason: RouteCloseReason | undefined;
  private closedReported = false;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    readonly path: string,
    readonly keyId: string,
    readonly address: string,
    private readonly ws: WebSocket,
    private readonly onClosed: (listener: ListenerConnection, reason: RouteCloseReason) => void,
  ) {
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', () => {
      this.closeReason ??= 'error';
      ws.terminate();
    });
    ws.on('close', () => {
      clearTimeout(this.closeTimer);
      this.reportClosed();
    });
  }

  notify(message: NotifyMessage): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    // Keys in the protocol's order; JSON.stringify leaves slashes unescaped.
    this.ws.send(JSON.stringify({ ipaddr: message.ipaddr, id: message.id, timeout: message.timeout }));
    return true;
  }

  /** One call per ping round: a listener that did not answer the last ping is dropped. */
  ping(): void {
    if (!this.alive) {
      this.closeReason ??= 'ping_timeout';
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  /**
   * Closes with a reason the listener can read, and frees the route at once:
   * a listener that never answers the closing handshake must not hold its
   * path (it is cut after a short grace).
   */
  close(reason: RouteCloseReason): void {
    this.closeReason ??= reason;
    if (reason === 'shutdown') this.ws.close(CLOSE_GOING_AWAY, 'relay shutting down');
    else if (reason === 'forced') this.ws.close(CLOSE_POLICY, 'closed by the operator');
    else this.ws.terminate();
    this.reportClosed();
    this.closeTimer ??= setTimeout(() => this.ws.terminate(), CLOSE_HANDSHAKE_GRACE_MS).unref();
  }

  private reportClosed(): void {
    if (this.closedReported) return;
    this.closedReported = true;
    this.onClosed(this, this.closeReason ?? 'listener_closed');
  }

  /** Ends the connection now, without a closing handshake. */
  terminate(): void {
    this.ws.terminate();
  }
}
