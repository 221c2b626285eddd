/**
 * Telling a listener of a waiting dialer, and telling another one when the
 * first is slow or gone (docs/protocol.md, route policies: pool).
 */
import { endWaitingDialer } from './end-waiting-dialer';
import type { RelayContext } from './relay-context';
import { pickListener } from './route-admission';
import type { RouteListener } from './route-registry';
import type { WaitingDialer } from './waiting-dialer';

let offers = 0;

/** A relay-wide order of offers, for spreading ties in a pool. */
export function nextOfferOrder(): number {
  return ++offers;
}

/**
 * Sends the notify message to `listener` and, when another active listener of
 * the path has not been told yet, arms the pool's dial-back deadline.
 * False when the message could not be sent.
 */
export function offerDialer(ctx: RelayContext, dialer: WaitingDialer, listener: RouteListener): boolean {
  dialer.offeredTo(listener.id, listener.keyId);
  listener.markOffered(nextOfferOrder());
  if (!listener.notify({ ipaddr: dialer.address, id: dialer.id, timeout: dialer.timeoutSeconds })) return false;
  if (pickListener(ctx.registry.listenersOn(dialer.path), dialer.tried, false)) {
    dialer.armOfferDeadline(ctx.config.routes.poolDialbackDeadlineMs, () => onOfferDeadline(ctx, dialer));
  }
  return true;
}

/** The listener a dialer was told to is gone: tell another, keep waiting on one told before, or answer 502. */
export function offerElsewhereOrEnd(ctx: RelayContext, dialer: WaitingDialer): void {
  if (dialer.isEnded) return;
  const onPath = ctx.registry.listenersOn(dialer.path);
  for (let next = pickListener(onPath, dialer.tried, false); next; next = pickListener(onPath, dialer.tried, false)) {
    if (offerDialer(ctx, dialer, next)) return;
  }
  // A listener told earlier (a slow pool member) may still dial back before the deadline.
  if (onPath.some((listener) => dialer.tried.has(listener.id))) return;
  endWaitingDialer(ctx, dialer, 'listener_gone');
}

function onOfferDeadline(ctx: RelayContext, dialer: WaitingDialer): void {
  if (dialer.isEnded) return;
  const slow = ctx.registry.findListener(dialer.listenerId);
  const next = pickListener(ctx.registry.listenersOn(dialer.path), dialer.tried, false);
  if (!next) return;
  if (slow) {
    slow.countSlowDialback();
    ctx.log.warn({ listener: slow.id, route: dialer.path, next: next.id }, 'pool member did not dial back in time; offering the dial to another');
    ctx.events.emit('dialback:slow', { path: dialer.path, listenerId: slow.id });
  }
  offerElsewhereOrEnd(ctx, dialer);
}
