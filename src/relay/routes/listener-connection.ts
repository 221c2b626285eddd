/**
 * One listener's WebSocket: it receives a notify message per waiting dialer
 * and answers pings. The original ignores what a listener sends, and so do we
 * (ws bounds the message size), unless it negotiated `drain` (then it may ask
 * to drain) or `refuse` (then it may refuse a dial it was told of;
 * docs/protocol.md, listener features): the gateway hands those ops here.
 */
import type { WebSocket } from 'ws';
import {
  CLOSE_BY_OPERATOR_REASON,
  CLOSE_REPLACED,
  CLOSE_ROUTE_CLOSED,
  CLOSE_REPLACED_REASON,
  FEATURE_DRAIN,
  FEATURE_REFUSE,
  KEY_LOSS_CLOSE,
  type ListenerOpMessage,
  type NotifyMessage,
} from '@remoted/sdk/wire/protocol';
import { encodeListenerOp, encodeNotify } from '@remoted/sdk/wire/listener-frames';
import type { RoutePolicy } from '../../keys/route-policy';
import type { DrainedBy, ListenerState, RouteListener } from './listener-table';
import type { RouteCloseReason } from '../context/relay-events';

/** WebSocket close codes the relay uses. */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;

/** How long a listener we close may take to answer the closing handshake before it is cut. */
const CLOSE_HANDSHAKE_GRACE_MS = 1000;

export interface ListenerIdentity {
  id: string;
  path: string;
  keyId: string;
  address: string;
  policy: RoutePolicy;
  /** Extension features granted on its upgrade. */
  features: readonly string[];
}

export interface ListenerHooks {
  onClosed(listener: ListenerConnection, reason: RouteCloseReason): void;
  onDrained(listener: ListenerConnection, by: DrainedBy): void;
  /** The listener refused the dial it was told of with this WebRoute id (feature `refuse`). */
  onRefused(listener: ListenerConnection, dialId: string, reason: string): void;
  /** Spares the listener holds now (they live in the relay's spare pool). */
  spareCount(listener: ListenerConnection): number;
}

export class ListenerConnection implements RouteListener {
  readonly id: string;
  readonly path: string;
  readonly keyId: string;
  readonly address: string;
  readonly policy: RoutePolicy;
  readonly features: readonly string[];
  readonly since = new Date();
  private currentState: ListenerState = 'active';
  private links = 0;
  private slow = 0;
  private offered = 0;
  private alive = true;
  private closeReason: RouteCloseReason | undefined;
  private closedReported = false;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    identity: ListenerIdentity,
    private readonly ws: WebSocket,
    private readonly hooks: ListenerHooks,
  ) {
    this.id = identity.id;
    this.path = identity.path;
    this.keyId = identity.keyId;
    this.address = identity.address;
    this.policy = identity.policy;
    this.features = identity.features;
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

  get state(): ListenerState {
    return this.currentState;
  }

  get activeLinks(): number {
    return this.links;
  }

  get slowDialbacks(): number {
    return this.slow;
  }

  get spareCount(): number {
    return this.hooks.spareCount(this);
  }

  countLink(delta: 1 | -1): void {
    this.links += delta;
  }

  countSlowDialback(): void {
    this.slow++;
  }

  get lastOffer(): number {
    return this.offered;
  }

  markOffered(order: number): void {
    this.offered = order;
  }

  notify(message: NotifyMessage): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    this.ws.send(encodeNotify(message));
    return true;
  }

  drain(by: DrainedBy): boolean {
    if (this.currentState === 'draining') return false;
    this.currentState = 'draining';
    if (this.features.includes(FEATURE_DRAIN) && this.ws.readyState === this.ws.OPEN) {
      this.ws.send(encodeListenerOp({ op: 'draining', by }));
    }
    this.hooks.onDrained(this, by);
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
  close(reason: RouteCloseReason, operatorReason?: string): void {
    this.closeReason ??= reason;
    const byOperator = operatorReason || CLOSE_BY_OPERATOR_REASON;
    if (reason === 'shutdown') this.ws.close(CLOSE_GOING_AWAY, 'relay shutting down');
    else if (reason === 'lease_lost') this.ws.close(CLOSE_GOING_AWAY, 'this relay node lost the route; reconnect');
    else if (reason === 'forced') this.ws.close(CLOSE_POLICY, byOperator);
    else if (reason === 'closed_for_good') this.ws.close(CLOSE_ROUTE_CLOSED, byOperator);
    else if (reason === 'replaced') this.ws.close(CLOSE_REPLACED, CLOSE_REPLACED_REASON);
    else if (reason === 'key_revoked' || reason === 'key_expired' || reason === 'key_out_of_scope') {
      this.ws.close(KEY_LOSS_CLOSE[reason].code, KEY_LOSS_CLOSE[reason].reason);
    }
    else this.ws.terminate();
    this.reportClosed();
    this.closeTimer ??= setTimeout(() => this.ws.terminate(), CLOSE_HANDSHAKE_GRACE_MS).unref();
  }

  /** Ends the connection now, without a closing handshake. */
  terminate(): void {
    this.ws.terminate();
  }

  /**
   * A frame the listener sent, dispatched by the gateway on its `op`. Only the
   * ops of features it was granted mean anything; the rest is ignored, as the
   * base protocol says.
   */
  opReceived(op: ListenerOpMessage): void {
    if (op.op === 'drain' && this.features.includes(FEATURE_DRAIN)) this.drain('listener');
    else if (op.op === 'refuse' && this.features.includes(FEATURE_REFUSE)) this.hooks.onRefused(this, op.id, op.reason);
  }

  private reportClosed(): void {
    if (this.closedReported) return;
    this.closedReported = true;
    this.hooks.onClosed(this, this.closeReason ?? 'listener_closed');
  }
}
