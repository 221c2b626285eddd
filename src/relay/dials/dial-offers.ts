/**
 * Telling a listener of a waiting dialer, telling another one when the first
 * is slow, gone or refuses (docs/protocol.md, route policies: pool), and what
 * a listener's leaving or draining means for the dials and spares it had.
 */
import { endWaitingDialer } from './end-waiting-dialer';
import type { DialsContext } from './dials-context';
import type { RemoteDialOffer } from '../context/route-directory';
import type { DialsOfListener } from '../routes/listener-acceptor';
import { pickListener } from '../routes/route-admission';
import type { RouteListener } from '../routes/listener-table';
import type { WaitingDialer } from './waiting-dialer';

export class DialOffers implements DialsOfListener {
  /** A node-wide order of offers, for spreading ties in a pool. */
  private offers = 0;

  constructor(private readonly ctx: DialsContext) {}

  nextOrder(): number {
    return ++this.offers;
  }

  /**
   * Sends the notify message to `listener` and, when another active listener of
   * the path has not been told yet, arms the pool's dial-back deadline.
   * False when the message could not be sent.
   */
  offer(dialer: WaitingDialer, listener: RouteListener): boolean {
    dialer.offeredTo(listener.id, listener.keyId);
    listener.markOffered(this.nextOrder());
    if (!listener.notify({ ipaddr: dialer.address, id: dialer.id, timeout: dialer.timeoutSeconds })) return false;
    if (pickListener(this.ctx.listeners.on(dialer.path), dialer.tried, false)) {
      dialer.armOfferDeadline(this.ctx.config.routes.poolDialbackDeadlineMs, () => this.onOfferDeadline(dialer));
    }
    return true;
  }

  /** The listener a dialer was told to is gone: tell another, keep waiting on one told before, or answer 502. */
  offerElsewhereOrEnd(dialer: WaitingDialer): void {
    if (dialer.isEnded) return;
    const onPath = this.ctx.listeners.on(dialer.path);
    for (let next = pickListener(onPath, dialer.tried, false); next; next = pickListener(onPath, dialer.tried, false)) {
      if (this.offer(dialer, next)) return;
    }
    // A listener told earlier (a slow pool member) may still dial back before the deadline.
    if (onPath.some((listener) => dialer.tried.has(listener.id))) return;
    endWaitingDialer(this.ctx, dialer, 'listener_gone');
  }

  listenerGone(listener: RouteListener): number {
    for (const spare of this.ctx.spares.removeListener(listener.id)) spare.answerListenerGone();
    // Dialers it was told of go to another listener of the path, or are answered 502.
    const told = [...this.ctx.dialers.on(listener.path)].filter((dialer) => dialer.listenerId === listener.id);
    for (const dialer of told) this.offerElsewhereOrEnd(dialer);
    return told.length;
  }

  listenerDraining(listener: RouteListener): void {
    for (const spare of this.ctx.spares.removeListener(listener.id)) spare.answerListenerGone();
  }

  refused(listener: RouteListener, dialId: string, reason: string): void {
    const dialer = this.ctx.dialers.find(listener.path, dialId);
    // Only the listener the dial was offered to last may refuse it: a stale id, or one offered elsewhere since, changes nothing.
    if (!dialer || dialer.listenerId !== listener.id) return;
    this.ctx.log.info({ listener: listener.id, route: listener.path, dialer: dialer.address, reason }, 'listener refused a dial');
    // In a pool, another member not told yet may serve it; the last one to refuse is answered.
    const next = pickListener(this.ctx.listeners.on(listener.path), dialer.tried, false);
    if (next && this.offer(dialer, next)) return;
    endWaitingDialer(this.ctx, dialer, 'refused', reason);
  }

  /**
   * Cluster mode: a dialer waits on another node for a listener of this one.
   * The listener is told as for a local dialer; its dial-back lands on any
   * node and finds the dialer through the directory. A listener gone or
   * draining since is told nothing: the dialer's own deadline answers it.
   */
  offerFromElsewhere(offer: RemoteDialOffer): void {
    const listener = this.ctx.listeners.find(offer.listenerId);
    if (!listener || listener.state !== 'active' || listener.path !== offer.path) return;
    listener.markOffered(this.nextOrder());
    listener.notify({ ipaddr: offer.ipaddr, id: offer.id, timeout: offer.timeout });
  }

  spareCount(listenerId: string): number {
    return this.ctx.spares.countFor(listenerId);
  }

  private onOfferDeadline(dialer: WaitingDialer): void {
    if (dialer.isEnded) return;
    const slow = this.ctx.listeners.find(dialer.listenerId);
    const next = pickListener(this.ctx.listeners.on(dialer.path), dialer.tried, false);
    if (!next) return;
    if (slow) {
      slow.countSlowDialback();
      this.ctx.log.warn({ listener: slow.id, route: dialer.path, next: next.id }, 'pool member did not dial back in time; offering the dial to another');
      this.ctx.events.emit('dialback:slow', { path: dialer.path, listenerId: slow.id });
    }
    this.offerElsewhereOrEnd(dialer);
  }
}
