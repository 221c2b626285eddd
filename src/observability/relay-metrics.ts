/**
 * The relay's Prometheus metrics, in a registry of its own (two relays in one
 * process stay apart). What the registry already knows (listeners, waiting
 * dialers, links, bytes of live links) is read at scrape time rather than
 * kept twice; what only happens (outcomes, refusals, failures) is counted
 * from RelayEvents. Labels are small closed sets: never a key, a secret, a
 * path or an address.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RelayEventMap, RelayEvents } from '../relay/relay-events';
import type { RouteRegistry } from '../relay/route-registry';

export interface RelayMetricsSources {
  registry: RouteRegistry;
  events: RelayEvents;
  /** Sockets the relay holds at once. */
  connectionCount(): number;
  /** Spare dial-backs held (extension). */
  spareCount(): number;
}

/** Handshake latency buckets in seconds: a dial waits for a listener's round trip. */
const HANDSHAKE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class RelayMetrics {
  readonly registry = new Registry();
  /** Bytes of links already closed; live links are added at scrape time. */
  private closedBytesToListener = 0;
  private closedBytesToDialer = 0;
  private readonly dials: Counter<'outcome'>;
  private readonly linksClosed: Counter<'reason'>;
  private readonly refusals: Counter<'status' | 'code'>;
  private readonly authFailures: Counter;
  private readonly capacity: Counter<'limit'>;
  private readonly handshake: Histogram;
  private readonly slowDialbacks: Counter;

  constructor(private readonly sources: RelayMetricsSources) {
    const registers = [this.registry];
    const { registry: routes } = sources;
    collectDefaultMetrics({ register: this.registry });

    new Gauge({ name: 'remoted_listeners', help: 'Listeners open (a path in a pool has several).', registers, collect() { this.set(routes.listenerCount()); } });
    new Gauge({ name: 'remoted_spares', help: 'Spare dial-backs held for listeners.', registers, collect() { this.set(sources.spareCount()); } });
    new Gauge({ name: 'remoted_waiting_dialers', help: 'Dialers waiting for a dial-back.', registers, collect() { this.set(routes.waitingDialerCount()); } });
    new Gauge({ name: 'remoted_links', help: 'Links open.', registers, collect() { this.set(routes.linkCount()); } });
    new Gauge({
      name: 'remoted_connections',
      help: 'Sockets the relay holds (listeners, waiting dialers, link sides, requests being answered).',
      registers,
      collect() { this.set(sources.connectionCount()); },
    });
    const metrics = this;
    new Counter({
      name: 'remoted_link_bytes_total',
      help: 'Bytes relayed by links, closed and open, by direction.',
      labelNames: ['direction'],
      registers,
      collect() {
        let toListener = metrics.closedBytesToListener;
        let toDialer = metrics.closedBytesToDialer;
        for (const link of routes.links()) {
          toListener += link.bytesToListener;
          toDialer += link.bytesToDialer;
        }
        this.reset();
        this.inc({ direction: 'to_listener' }, toListener);
        this.inc({ direction: 'to_dialer' }, toDialer);
      },
    });
    this.dials = new Counter({
      name: 'remoted_dials_total',
      help: 'Dials that waited for a listener, by outcome: linked, timeout (504), listener_gone (502), dialer_closed, shutdown, key_severed (403).',
      labelNames: ['outcome'],
      registers,
    });
    this.linksClosed = new Counter({ name: 'remoted_links_closed_total', help: 'Links closed, by reason.', labelNames: ['reason'], registers });
    this.refusals = new Counter({
      name: 'remoted_refusals_total',
      help: 'Requests refused, by HTTP status and error code (timeout: a dialer answered 504).',
      labelNames: ['status', 'code'],
      registers,
    });
    this.authFailures = new Counter({ name: 'remoted_auth_failures_total', help: 'Requests with a missing, unknown, unusable or out-of-scope key.', registers });
    this.capacity = new Counter({ name: 'remoted_capacity_refusals_total', help: 'Requests answered 503 because a limit was reached, by limit.', labelNames: ['limit'], registers });
    this.handshake = new Histogram({
      name: 'remoted_link_handshake_seconds',
      help: 'Time from a dial to its link (both 101s).',
      buckets: HANDSHAKE_BUCKETS,
      registers,
    });
    this.slowDialbacks = new Counter({
      name: 'remoted_slow_dialbacks_total',
      help: 'Dials offered to another pool member because the first did not dial back in time.',
      registers,
    });
    const { events } = sources;
    events.on('dialback:slow', this.onSlowDialback);
    events.on('link:open', this.onLinkOpen);
    events.on('link:close', this.onLinkClose);
    events.on('dialer:end', this.onDialerEnd);
    events.on('request:refused', this.onRefused);
    events.on('auth:failed', this.onAuthFailed);
    events.on('capacity:reached', this.onCapacity);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops counting and forgets the metrics. */
  dispose(): void {
    const { events } = this.sources;
    events.off('dialback:slow', this.onSlowDialback);
    events.off('link:open', this.onLinkOpen);
    events.off('link:close', this.onLinkClose);
    events.off('dialer:end', this.onDialerEnd);
    events.off('request:refused', this.onRefused);
    events.off('auth:failed', this.onAuthFailed);
    events.off('capacity:reached', this.onCapacity);
    this.registry.clear();
  }

  private readonly onSlowDialback = (): void => {
    this.slowDialbacks.inc();
  };

  private readonly onLinkOpen = (link: RelayEventMap['link:open'][0]): void => {
    this.dials.inc({ outcome: 'linked' });
    this.handshake.observe(link.handshakeMs / 1000);
  };

  private readonly onLinkClose = (link: RelayEventMap['link:close'][0]): void => {
    this.closedBytesToListener += link.bytesToListener;
    this.closedBytesToDialer += link.bytesToDialer;
    this.linksClosed.inc({ reason: link.reason });
  };

  private readonly onDialerEnd = (end: RelayEventMap['dialer:end'][0]): void => {
    this.dials.inc({ outcome: end.reason });
  };

  private readonly onRefused = (refusal: RelayEventMap['request:refused'][0]): void => {
    this.refusals.inc({ status: String(refusal.status), code: refusal.code });
  };

  private readonly onAuthFailed = (): void => {
    this.authFailures.inc();
  };

  private readonly onCapacity = (reached: RelayEventMap['capacity:reached'][0]): void => {
    this.capacity.inc({ limit: reached.limit });
  };
}
