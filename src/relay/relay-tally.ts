/**
 * The one count of what happened in the data plane, kept from RelayEvents
 * from the relay's start. Its readers (the control plane's stats, Prometheus)
 * read it; none counts for itself. What the tables hold now (open routes,
 * links, bytes of live links) is read from them through the door, not kept here.
 */
import { type RelayEventMap, type RelayEvents, subscribe } from './context/relay-events';

/** Counts by label, in the order the labels first appeared. */
export type LabelCounts = ReadonlyMap<string, number>;

export class RelayTally {
  routesOpened = 0;
  routesClosed = 0;
  linksOpened = 0;
  /** Links closed, by reason. */
  readonly linksClosed = new Map<string, number>();
  /** Dials that waited, by outcome: `linked`, or the reason they ended unlinked. */
  readonly dialOutcomes = new Map<string, number>();
  /** Refusals, by `status code` (e.g. `403 invalid_missing_apikey`). */
  readonly refusals = new Map<string, number>();
  authFailures = 0;
  /** 503s, by the limit reached. */
  readonly capacityRefusals = new Map<string, number>();
  slowDialbacks = 0;
  /** Links opened, by how the listener's side came (relay-events.ts LinkVia): in cluster mode, `hop` against the rest is the share of links that needed a hop. */
  readonly linksByVia = new Map<string, number>();
  /** Bytes of links that have closed; open links are read from the link table. */
  closedBytesToListeners = 0;
  closedBytesToDialers = 0;
  private readonly unsubscribe: () => void;

  constructor(events: RelayEvents) {
    this.unsubscribe = subscribe(events, {
      'route:open': () => void this.routesOpened++,
      'route:close': () => void this.routesClosed++,
      'link:open': (link: RelayEventMap['link:open'][0]) => {
        this.linksOpened++;
        add(this.linksByVia, link.via);
        // A relayed half belongs to a dial that waited on another node: that node counts its outcome.
        if (link.via !== 'relayed') add(this.dialOutcomes, 'linked');
      },
      'link:close': (link: RelayEventMap['link:close'][0]) => {
        add(this.linksClosed, link.reason);
        this.closedBytesToListeners += link.bytesToListener;
        this.closedBytesToDialers += link.bytesToDialer;
      },
      'dialer:end': (end) => add(this.dialOutcomes, end.reason),
      'request:refused': (refusal) => add(this.refusals, `${refusal.status} ${refusal.code}`),
      'auth:failed': () => void this.authFailures++,
      'capacity:reached': (reached) => add(this.capacityRefusals, reached.limit),
      'dialback:slow': () => void this.slowDialbacks++,
    });
  }

  /** Dials that ended without a link, whatever the reason. */
  get dialsUnlinked(): number {
    return sum(this.dialOutcomes) - (this.dialOutcomes.get('linked') ?? 0);
  }

  get linksClosedTotal(): number {
    return sum(this.linksClosed);
  }

  dispose(): void {
    this.unsubscribe();
  }
}

function add(counts: Map<string, number>, label: string): void {
  counts.set(label, (counts.get(label) ?? 0) + 1);
}

function sum(counts: LabelCounts): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}
