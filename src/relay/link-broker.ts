/**
 * The WebRoute half of the relay: a dialer waits, its listener is told, the
 * listener dials back, and the two sockets become a Link.
 */
import type { Socket } from 'node:net';
import { randomToken } from '@remoted/sdk/protocol';
import type { ApiKey } from '../keys/api-key';
import { endWaitingDialer } from './end-waiting-dialer';
import { replyError, replySwitching } from './http-reply';
import { Link } from './link';
import type { RelayContext } from './relay-context';
import type { LinkCloseReason } from './relay-events';
import { WaitingDialer } from './waiting-dialer';
import { effectiveTimeoutSeconds } from './webroute-handshake';

export interface WebRouteCall {
  socket: Socket;
  head: Buffer;
  key: ApiKey;
  path: string;
  /** The client's address in the protocol's `ipaddr` form (see client-address.ts). */
  address: string;
  id: string;
  requestedTimeoutSeconds: number | undefined;
  readsEarlyData: boolean;
}

export class LinkBroker {
  /** Open links per dialer key: only keys with a live link have an entry. */
  private readonly linksPerKey = new Map<string, number>();

  constructor(private readonly ctx: RelayContext) {}

  /** A client asks for a link: hold it and tell the route's listener. */
  dial(call: WebRouteCall): void {
    const { registry, config, events } = this.ctx;
    const { socket, head, key, path, id } = call;
    const listener = registry.findListener(path);
    if (!listener) return replyError(socket, 'missing_destination');
    if (head.length > config.limits.maxPreLinkBytes) {
      events.emit('capacity:reached', { limit: 'pre_link_bytes', path });
      return replyError(socket, 'over_capacity', 'Too many bytes were sent before the link was made.');
    }
    if ((this.linksPerKey.get(key.id) ?? 0) >= config.limits.maxLinksPerKey) {
      this.ctx.log.warn({ key: key.id, route: path, limit: config.limits.maxLinksPerKey }, 'links per key limit reached');
      events.emit('capacity:reached', { limit: 'links_per_key', path });
      return replyError(socket, 'over_capacity', 'This key has too many open links.');
    }
    const defaultSeconds = config.defaultTimeoutSeconds;
    const timeoutSeconds = effectiveTimeoutSeconds(defaultSeconds, call.requestedTimeoutSeconds);
    const address = call.address;
    // The wait is bounded by the relay's default, not the dialer's own timeout,
    // so no dialer holds a waiting slot for longer (as the original).
    const deadlineMs = this.ctx.now() + defaultSeconds * 1000;
    const dialer = new WaitingDialer(path, id, socket, head, key, address, timeoutSeconds, deadlineMs, listener.id, listener.keyId, call.readsEarlyData);

    const added = registry.addWaitingDialer(dialer, config.limits.maxWaitingDialersPerRoute);
    if (added === 'route_full') {
      this.ctx.log.warn({ route: path, limit: config.limits.maxWaitingDialersPerRoute }, 'waiting dialers per route limit reached');
      events.emit('capacity:reached', { limit: 'waiting_dialers_per_route', path });
      return replyError(socket, 'over_capacity', 'Too many dialers are waiting on this path.');
    }
    if (added === 'duplicate_id') return replyError(socket, 'invalid_request', 'A dialer with this WebRoute-ID is already waiting.');

    dialer.watchClose(this.onWaitingDialerClosed);
    if (!listener.notify({ ipaddr: address, id, timeout: timeoutSeconds })) {
      registry.removeWaitingDialer(dialer);
      dialer.answerListenerGone();
    }
  }

  /** The listener dials back with the id it was told: link the two. */
  dialBack(call: WebRouteCall): void {
    const { registry, config } = this.ctx;
    const { socket, head, key, path, id } = call;
    const dialer = registry.findWaitingDialer(path, id);
    // Another server key must not be able to take a link it was not told of.
    if (!dialer || dialer.listenerKeyId !== key.id || !registry.removeWaitingDialer(dialer)) {
      return replyError(socket, 'invalid_request', 'No dialer is waiting with this WebRoute-ID on this path.');
    }
    if (head.length > config.limits.maxPreLinkBytes) {
      this.ctx.events.emit('capacity:reached', { limit: 'pre_link_bytes', path });
      dialer.answerListenerGone();
      return replyError(socket, 'over_capacity', 'Too many bytes were sent before the link was made.');
    }
    const dialerHead = dialer.release();
    const listenerSeconds = effectiveTimeoutSeconds(config.defaultTimeoutSeconds, call.requestedTimeoutSeconds);
    replySwitching(dialer.socket, id);
    replySwitching(socket, id);
    const link = new Link(
      {
        id: `lnk_${randomToken(16)}`,
        path,
        listenerId: dialer.listenerId,
        dialerKeyId: dialer.key.id,
        listenerKeyId: key.id,
        dialerAddress: dialer.address,
        dialer: { socket: dialer.socket, head: dialerHead, receiveDelayMs: dialer.readsEarlyData ? 0 : config.legacyPeerDelayMs },
        listener: { socket, head, receiveDelayMs: call.readsEarlyData ? 0 : config.legacyPeerDelayMs },
        idleTimeoutMs: Math.min(dialer.timeoutSeconds, listenerSeconds) * 1000,
        now: this.ctx.now(),
      },
      this.onLinkClosed,
    );
    registry.addLink(link);
    this.linksPerKey.set(dialer.key.id, (this.linksPerKey.get(dialer.key.id) ?? 0) + 1);
    link.start();
    this.ctx.log.info({ link: link.id, route: path, dialer: dialer.address }, 'link opened');
    this.ctx.events.emit('link:open', { ...link.snapshot(), handshakeMs: this.ctx.now() - dialer.since.getTime() });
  }

  private readonly onWaitingDialerClosed = (dialer: WaitingDialer): void => endWaitingDialer(this.ctx, dialer, 'dialer_closed');

  private readonly onLinkClosed = (link: Link, reason: LinkCloseReason): void => {
    this.ctx.registry.removeLink(link);
    const snapshot = link.snapshot();
    const left = (this.linksPerKey.get(snapshot.dialerKeyId) ?? 1) - 1;
    if (left > 0) this.linksPerKey.set(snapshot.dialerKeyId, left);
    else this.linksPerKey.delete(snapshot.dialerKeyId);
    this.ctx.log.info(
      { link: link.id, route: snapshot.path, reason, bytesToListener: snapshot.bytesToListener, bytesToDialer: snapshot.bytesToDialer },
      'link closed',
    );
    this.ctx.events.emit('link:close', { ...snapshot, reason });
  };
}
