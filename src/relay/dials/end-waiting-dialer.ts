/**
 * The one way a waiting dialer stops waiting without a link: it leaves the
 * table, gets the answer its reason calls for, and the event is told.
 */
import type { DialerEndReason, RelayEvents } from '../context/relay-events';
import type { WaitingDialer } from './waiting-dialer';
import type { WaitingDialerTable } from './waiting-dialer-table';

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
  ctx: { readonly dialers: WaitingDialerTable; readonly events: RelayEvents },
  dialer: WaitingDialer,
  reason: DialerEndReason,
  /** What the answer says beyond its code: the listener's reason for a refusal. */
  detail = '',
): void {
  const wasWaiting = ctx.dialers.remove(dialer);
  // A closed socket of a dialer already linked or answered ends nothing.
  if (reason === 'dialer_closed' && !wasWaiting) return;
  ANSWERS[reason]?.(dialer, detail);
  ctx.events.emit('dialer:end', { path: dialer.path, dialerAddress: dialer.address, reason });
}
