/**
 * One timer for all deadlines of the data plane, rather than one per socket:
 * dialers not linked in time get 504, links idle for their timeout are closed,
 * spares past their age are answered 504, what an expired key holds is closed,
 * and listeners are pinged on their own, slower round.
 */
import { endWaitingDialer } from './dials/end-waiting-dialer';
import type { KeyEnforcer } from './key-enforcer';
import type { DialsContext } from './dials/dials-context';

export class RelaySweeper {
  private sweepTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: DialsContext,
    private readonly keys: KeyEnforcer,
  ) {}

  start(): void {
    this.sweepTimer = setInterval(() => this.sweep(this.ctx.now()), this.ctx.config.sweepIntervalMs).unref();
    this.pingTimer = setInterval(() => this.pingListeners(), this.ctx.config.listenerPingIntervalMs).unref();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
    clearInterval(this.pingTimer);
  }

  sweep(now: number): void {
    const { dialers, links } = this.ctx;
    // First: an expired key's dials and links are closed, not linked or kept alive below.
    this.keys.sweep(now);
    const expired = [...dialers.all()].filter((dialer) => now >= dialer.deadlineMs);
    for (const dialer of expired) endWaitingDialer(this.ctx, dialer, 'timeout');
    for (const link of links.all()) link.checkIdle(now);
    const maxAgeMs = this.ctx.config.routes.spareMaxAgeSeconds * 1000;
    for (const spare of this.ctx.spares.removeOlderThan(now - maxAgeMs)) spare.answerExpired();
  }

  pingListeners(): void {
    for (const listener of [...this.ctx.listeners.all()]) listener.ping();
  }
}
