/**
 * The relay's Prometheus metrics, in a registry of its own (two relays in one
 * process stay apart). What the relay already knows (listeners, waiting
 * dialers, links, bytes of live links) is read through its door at scrape time rather than
 * kept twice; what only happens (outcomes, refusals, failures) is read from
 * the relay's one tally (relay-tally.ts), which the control plane's stats
 * read too. Labels are small closed sets: never a key, a secret, a path or an
 * address (the node id of cluster mode is the operator's own name).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type RelayEvents, subscribe } from '../relay/context/relay-events';
import type { LabelCounts, RelayTally } from '../relay/relay-tally';
import type { RelayAdmin } from '../relay/relay-admin';

export interface RelayMetricsSources {
  relay: RelayAdmin;
  events: RelayEvents;
  /** The relay's one count of what happened: counters read it at scrape time. */
  tally: RelayTally;
  /** In cluster mode, this node's id: a `node` label on every series, so that one Prometheus tells the nodes apart. */
  nodeId?: string;
}

/** Handshake latency buckets in seconds: a dial waits for a listener's round trip. */
const HANDSHAKE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A counter that shows, at each scrape, the tally's counts by one label. */
function tallyCounter(registers: Registry[], name: string, help: string, label: string, counts: () => LabelCounts): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      this.reset();
      for (const [value, n] of counts()) this.inc({ [label]: value }, n);
    },
  });
}

/** A counter without labels that shows one of the tally's counts at each scrape. */
function tallyTotal(registers: Registry[], name: string, help: string, count: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(count());
    },
  });
}

export class RelayMetrics {
  readonly registry = new Registry();
  private readonly handshake: Histogram;
  /** The handshake histogram is a distribution, not a count: it alone listens to the events. */
  private readonly unsubscribe: () => void;

  constructor(sources: RelayMetricsSources) {
    const registers = [this.registry];
    const { relay, tally } = sources;
    if (sources.nodeId !== undefined) this.registry.setDefaultLabels({ node: sources.nodeId });
    collectDefaultMetrics({ register: this.registry });

    new Gauge({ name: 'remoted_listeners', help: 'Listeners open (a path in a pool has several).', registers, collect() { this.set(relay.counts().routes); } });
    new Gauge({ name: 'remoted_spares', help: 'Spare dial-backs held for listeners.', registers, collect() { this.set(relay.counts().spares); } });
    new Gauge({ name: 'remoted_waiting_dialers', help: 'Dialers waiting for a dial-back.', registers, collect() { this.set(relay.counts().waitingDialers); } });
    new Gauge({ name: 'remoted_links', help: 'Links open.', registers, collect() { this.set(relay.counts().links); } });
    new Gauge({
      name: 'remoted_connections',
      help: 'Sockets the relay holds (listeners, waiting dialers, link sides, requests being answered).',
      registers,
      collect() { this.set(relay.counts().connections); },
    });
    new Counter({
      name: 'remoted_link_bytes_total',
      help: 'Bytes relayed by links, closed and open, by direction.',
      labelNames: ['direction'],
      registers,
      collect() {
        const open = relay.openLinkBytes();
        this.reset();
        this.inc({ direction: 'to_listener' }, tally.closedBytesToListeners + open.toListeners);
        this.inc({ direction: 'to_dialer' }, tally.closedBytesToDialers + open.toDialers);
      },
    });
    tallyCounter(
      registers,
      'remoted_dials_total',
      'Dials that waited for a listener, by outcome: linked, timeout (504), listener_gone (502), dialer_closed, shutdown, key_severed (403), refused (502 destination_unreachable).',
      'outcome',
      () => tally.dialOutcomes,
    );
    tallyCounter(registers, 'remoted_links_closed_total', 'Links closed, by reason.', 'reason', () => tally.linksClosed);
    tallyCounter(
      registers,
      'remoted_links_opened_by_via_total',
      'Links opened, by how the listener\'s side came: dialback, spare, hop (cluster mode: over the node-to-node hop), relayed (this node carried a dial-back to the dialer\'s node).',
      'via',
      () => tally.linksByVia,
    );
    new Counter({
      name: 'remoted_refusals_total',
      help: 'Requests refused, by HTTP status and error code (timeout: a dialer answered 504).',
      labelNames: ['status', 'code'],
      registers,
      collect() {
        this.reset();
        for (const [statusAndCode, n] of tally.refusals) {
          const [status, code] = statusAndCode.split(' ');
          this.inc({ status, code }, n);
        }
      },
    });
    tallyTotal(registers, 'remoted_auth_failures_total', 'Requests with a missing, unknown, unusable or out-of-scope key.', () => tally.authFailures);
    tallyCounter(registers, 'remoted_capacity_refusals_total', 'Requests answered 503 because a limit was reached, by limit.', 'limit', () => tally.capacityRefusals);
    tallyTotal(registers, 'remoted_slow_dialbacks_total', 'Dials offered to another pool member because the first did not dial back in time.', () => tally.slowDialbacks);
    this.handshake = new Histogram({
      name: 'remoted_link_handshake_seconds',
      help: 'Time from a dial to its link (both 101s).',
      buckets: HANDSHAKE_BUCKETS,
      registers,
    });
    this.unsubscribe = subscribe(sources.events, {
      'link:open': (link) => this.handshake.observe(link.handshakeMs / 1000),
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops observing and forgets the metrics. */
  dispose(): void {
    this.unsubscribe();
    this.registry.clear();
  }
}
