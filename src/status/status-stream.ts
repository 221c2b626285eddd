/**
 * The page's live data: one server-sent-events stream per open page. While
 * at least one stream is open, the streams share one subscription to the
 * EventHub (the stream gRPC Watch uses) and one 1 s tick that samples the
 * relay; when the last stream closes both end, so a relay with no page open
 * pays nothing (no timer, no subscription, no sampling).
 *
 * Bounded everywhere: at most `maxStreams` streams; events between ticks are
 * queued up to `maxEventsPerTick` (the rest are counted as dropped and the
 * page says so); a stream whose socket holds more than `maxBufferedBytes`
 * unsent is dropped rather than buffered (a page that cannot keep up
 * reconnects and starts afresh).
 */
import type { ServerResponse } from 'node:http';
import type { EventHub, EventInit } from '../control/event-hub';
import { Ring, RateTracker, type RelayTotals, type TickFigures, tickRates } from './status-data';
import { type StatusEvent, statusEventOf } from './status-events';

/** What a tick reads of the relay (StatusService builds it over the relay's door and tally). */
export interface RelaySampler {
  /** Bytes of closed links each way, and dials, so far. */
  closedTotals(): Omit<RelayTotals, 'atMs'>;
  gauges(): { routes: number; links: number; waitingDialers: number };
  refusals(): Record<string, number>;
  /** Every open link's bytes so far (in: to its listener, out: to its dialer). */
  linkBytes(): Iterable<{ id: string; bytesIn: number; bytesOut: number }>;
}

export interface StatusStreamOptions {
  maxStreams: number;
  tickMs: number;
  /** Ticks of throughput history kept (the chart's width). */
  historyTicks: number;
  /** Latest events kept for a page that opens. */
  eventRingSize: number;
  maxEventsPerTick: number;
  maxBufferedBytes: number;
}

export class StatusStreams {
  /** Each stream with the check of its caller's authority (a session can end while its page is open). */
  private readonly streams = new Map<ServerResponse, () => boolean>();
  private readonly history: Ring<TickFigures>;
  private readonly events: Ring<StatusEvent>;
  private readonly linkRates = new RateTracker();
  private pending: StatusEvent[] = [];
  private droppedEvents = 0;
  private lastTotals: RelayTotals | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly hub: EventHub,
    private readonly sampler: RelaySampler,
    private readonly opts: StatusStreamOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.history = new Ring(opts.historyTicks);
    this.events = new Ring(opts.eventRingSize);
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Whether the shared tick and the hub subscription are running (only while a stream is open). */
  get isRunning(): boolean {
    return this.timer !== undefined;
  }

  /** Starts a stream on this response, or returns false when `maxStreams` are open; `authorized` is asked at every tick. */
  open(res: ServerResponse, authorized: () => boolean): boolean {
    if (this.streams.size >= this.opts.maxStreams) return false;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    this.streams.set(res, authorized);
    res.once('close', () => this.close(res));
    if (this.streams.size === 1) this.startShared();
    this.send(res, 'hello', { history: this.history.toArray(), events: this.events.toArray(), tickMs: this.opts.tickMs });
    return true;
  }

  /** A link's rate each way, from the last two ticks; undefined when no page is open or it is new. */
  linkRate(linkId: string): { inPerSecond: number; outPerSecond: number } | undefined {
    return this.linkRates.rateOf(linkId);
  }

  latestEvents(): StatusEvent[] {
    return this.events.toArray();
  }

  closeAll(): void {
    for (const res of [...this.streams.keys()]) res.destroy();
    this.stopShared();
  }

  private close(res: ServerResponse): void {
    if (!this.streams.delete(res)) return;
    if (this.streams.size === 0) this.stopShared();
  }

  private startShared(): void {
    this.unsubscribe = this.hub.subscribe(this.onEvent);
    this.lastTotals = this.sample(this.now());
    this.timer = setInterval(this.tick, this.opts.tickMs);
  }

  private stopShared(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.lastTotals = undefined;
    this.linkRates.clear();
    this.pending = [];
    this.droppedEvents = 0;
  }

  private readonly onEvent = (event: EventInit): void => {
    const view = statusEventOf(event);
    this.events.push(view);
    if (this.pending.length < this.opts.maxEventsPerTick) this.pending.push(view);
    else this.droppedEvents++;
  };

  private readonly tick = (): void => {
    const atMs = this.now();
    const totals = this.sample(atMs);
    const rates = tickRates(this.lastTotals ?? totals, totals);
    this.lastTotals = totals;
    const figures: TickFigures = { time: Math.round(atMs / 1000), ...rates, ...this.sampler.gauges(), refusals: this.sampler.refusals() };
    this.history.push(figures);
    const events = this.pending;
    const dropped = this.droppedEvents;
    this.pending = [];
    this.droppedEvents = 0;
    for (const [res, authorized] of [...this.streams]) {
      if (!authorized()) {
        res.destroy();
        continue;
      }
      if (events.length > 0 || dropped > 0) this.send(res, 'events', { events, dropped });
      this.send(res, 'tick', figures);
    }
  };

  /** One pass over the open links: each link's rate, and with the closed links' bytes the relay's totals. */
  private sample(atMs: number): RelayTotals {
    const links = [...this.sampler.linkBytes()];
    this.linkRates.sample(atMs, links);
    const totals = { atMs, ...this.sampler.closedTotals() };
    for (const link of links) {
      totals.bytesIn += link.bytesIn;
      totals.bytesOut += link.bytesOut;
    }
    return totals;
  }

  /** One SSE message; a stream that cannot keep up is dropped, not buffered. */
  private send(res: ServerResponse, name: string, data: unknown): void {
    if (res.destroyed) return;
    if (res.writableLength > this.opts.maxBufferedBytes) {
      res.destroy();
      return;
    }
    res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
