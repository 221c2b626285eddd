/**
 * The one way a waiting dialer stops waiting without a link: it leaves the
 * registry, gets the answer its reason calls for, and the event is told.
 */
import type { DialerEndReason, RelayEvents } from './relay-events';
import type { RouteRegistry } from './route-registry';
import type { WaitingDialer } from './waiting-dialer';

const ANSWERS: Readonly<Record<DialerEndReason, ((dialer: WaitingDialer, detail: string) => void) | undefined>> = {
  timeout: (dialer) => dialer.answerTimeout(),
  listener_gone: (dialer) => dialer.answerListenerGone(),
  shutdown: (dialer) => dialer.answerShutdown(),
  key_severed: (dialer) => dialer.answerKeySevered(),
  refused: (dialer, detail) => dialer.answerRefused(detail),
  // Its socket is gone: there is nobody to answer.
  dialer_closed: undefined,
};

export function endWaitingDialer(
  ctx: { readonly registry: RouteRegistry; readonly events: RelayEvents },
  dialer: WaitingDialer,
  reason: DialerEndReason,
  /** What the answer says beyond its code: the listener's reason for a refusal. */
  detail = '',
): void {
  const wasWaiting = ctx.registry.removeWaitingDialer(dialer);
  // A closed socket of a dialer already linked or answered ends nothing.
  if (reason === 'dialer_closed' && !wasWaiting) return;
  ANSWERS[reason]?.(dialer, detail);
  ctx.events.emit('dialer:end', { path: dialer.path, dialerAddress: dialer.address, reason });
}
