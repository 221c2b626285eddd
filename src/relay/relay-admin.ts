/**
 * The one door into the relay for its readers: the control plane, the
 * metrics, a status page, and tests. Ids and filters go in; views (plain
 * values, copied when asked) and counts come out, never a live relay object.
 * The closing order of a forced disconnect is relay behaviour and lives here.
 */
import type { IncomingMessage } from 'node:http';
import type { HeldCounts, KeyHoldings, SeveredCounts } from './key-enforcer';
import type { DialsContext } from './dials/dials-context';
import type { Link } from './links/link';
import { type LinkSnapshot, type RouteSnapshot, routeSnapshotOf } from './context/relay-events';
import type { ListenerState, RouteListener } from './routes/listener-table';
import type { RoutePolicy } from '../keys/route-policy';
import type { ClusterQuestion } from './context/route-directory';

// What readers need to name in the views and answers, from behind the door.
export type { HeldCounts, KeyHoldings, SeveredCounts } from './key-enforcer';
export type { DrainedBy, ListenerState } from './routes/listener-table';

/** A route (one listener connection) as it is now. */
export interface RouteView extends RouteSnapshot {
  state: ListenerState;
  policy: RoutePolicy;
  /** Extension features granted on its upgrade (`drain`, `spare`). */
  features: readonly string[];
  activeLinks: number;
  slowDialbacks: number;
  spares: number;
  /** Dialers waiting for this listener's dial-back. */
  waitingDialers: number;
  /** Bytes its open links relayed so far, each way. */
  bytesToListener: number;
  bytesToDialers: number;
}

/** A link as it is now. */
export interface LinkView extends LinkSnapshot {
  /** Ms since a byte last moved either way (as of the last sweep). */
  idleMs: number;
  idleTimeoutMs: number;
  /** It runs in the splice worker (links/offload), not in the relay process. */
  moved: boolean;
}

/** The node's tables the door reads, from the same object its rooms work on, and (cluster mode) the directory of the others. */
export type RelayTables = Pick<DialsContext, 'listeners' | 'dialers' | 'links' | 'directory'>;

/** How long a cluster-wide view waits for the other nodes: past it, a node is named as unanswered. */
const CLUSTER_ANSWER_TIMEOUT_MS = 1000;

/** Views of every node (cluster mode), each with the node that holds it; `unanswered`: nodes that did not answer in time. */
export interface ClusterViews<T> {
  views: Array<T & { node?: string }>;
  unanswered: string[];
}

export interface RouteFilter {
  path?: string;
  /** Listeners opened with this key. */
  keyId?: string;
}

export interface LinkFilter {
  /** Links of this listener. */
  listenerId?: string;
  path?: string;
  /** Links whose dialer or listener used this key. */
  keyId?: string;
}

/** Relay-wide gauges, read when asked. */
export interface RelayCounts {
  routes: number;
  links: number;
  waitingDialers: number;
  /** Spare dial-backs held. */
  spares: number;
  /** Sockets the relay port holds (any state). */
  connections: number;
}

/** Bytes the open links relayed so far, each way (closed links are the tally's). */
export interface OpenLinkBytes {
  toListeners: number;
  toDialers: number;
}

/** What the door needs of the relay's lifetime owner (RelayService). */
export interface RelayPortState {
  readonly connectionCount: number;
  readonly spareCount: number;
  /** Listening and not shutting down. */
  readonly isAccepting: boolean;
  /** Cluster mode: the node renewed its route leases lately and takes new listeners; undefined on a single node. */
  readonly takesListeners: boolean | undefined;
  /** Ms before this request's address may try a secret again (0: now); the relay port's table. */
  authRetryAfterMs(req: IncomingMessage): number;
  recordAuthFailure(req: IncomingMessage, path: string): void;
}

interface RouteCounters {
  waitingDialers: number;
  bytesToListener: number;
  bytesToDialers: number;
}

export class RelayAdmin implements KeyHoldings {
  constructor(
    private readonly tables: RelayTables,
    private readonly port: RelayPortState,
    private readonly holdings: KeyHoldings,
    private readonly now: () => number = Date.now,
  ) {}

  routes(filter: RouteFilter = {}): RouteView[] {
    const onPath = filter.path === undefined ? this.tables.listeners.all() : this.tables.listeners.on(filter.path);
    const listeners = [...onPath].filter((l) => filter.keyId === undefined || l.keyId === filter.keyId);
    const counters = this.routeCounters();
    return listeners.map((l) => routeView(l, counters.get(l.id)));
  }

  /**
   * One route. `counters: false` leaves out its waiting dialers and bytes (0),
   * which take a pass over every waiting dialer and open link: for an event, not for an answer.
   */
  route(listenerId: string, options: { counters: boolean } = { counters: true }): RouteView | undefined {
    const listener = this.tables.listeners.find(listenerId);
    if (!listener) return undefined;
    return options.counters ? this.viewOf(listener) : routeView(listener);
  }

  links(filter: LinkFilter = {}): LinkView[] {
    const now = this.now();
    const views: LinkView[] = [];
    for (const link of this.tables.links.all()) {
      const s = link.snapshot();
      if (filter.listenerId !== undefined && s.listenerId !== filter.listenerId) continue;
      if (filter.path !== undefined && s.path !== filter.path) continue;
      if (filter.keyId !== undefined && s.dialerKeyId !== filter.keyId && s.listenerKeyId !== filter.keyId) continue;
      views.push(linkView(link, s, now));
    }
    return views;
  }

  /** routes() of every node (one node: this one's, with no node named). */
  async routesOfCluster(filter: RouteFilter = {}): Promise<ClusterViews<RouteView>> {
    return this.ofCluster({ kind: 'routes', filter }, this.routes(filter));
  }

  /** links() of every node (one node: this one's, with no node named). */
  async linksOfCluster(filter: LinkFilter = {}): Promise<ClusterViews<LinkView>> {
    return this.ofCluster({ kind: 'links', filter }, this.links(filter));
  }

  /** What another node's control plane asked of this one: its views, as JSON values. */
  answer(question: ClusterQuestion): unknown {
    return question.kind === 'routes' ? this.routes(question.filter) : this.links(question.filter);
  }

  private async ofCluster<T extends { since: Date }>(question: ClusterQuestion, local: T[]): Promise<ClusterViews<T>> {
    const { directory } = this.tables;
    if (!directory) return { views: local, unanswered: [] };
    const { answers, unanswered } = await directory.askOthers(question, CLUSTER_ANSWER_TIMEOUT_MS);
    const views: Array<T & { node?: string }> = local.map((view) => ({ ...view, node: directory.nodeId }));
    for (const { nodeId, answer } of answers) {
      if (!Array.isArray(answer)) {
        unanswered.push(nodeId);
        continue;
      }
      // Views crossed as JSON: the one Date in them comes back as its ISO text.
      for (const view of answer as Array<T & { since: string }>) views.push({ ...view, since: new Date(view.since), node: nodeId });
    }
    return { views, unanswered: unanswered.sort() };
  }

  link(linkId: string): LinkView | undefined {
    const link = this.tables.links.find(linkId);
    return link && linkView(link, link.snapshot(), this.now());
  }

  /**
   * Closes a route: its listener (its waiting dialers are answered 502 by the
   * relay) and, if asked, its links first, so that nothing new joins them.
   * Returns the route as it was, or undefined when no such listener is here.
   */
  /**
   * `forGood`: the listener is told not to come back (4004) rather than
   * kicked (1008); `reason` goes in the WebSocket close.
   */
  closeRoute(listenerId: string, options: { closeLinks: boolean; forGood?: boolean; reason?: string }): { route: RouteView; closedLinks: number } | undefined {
    const listener = this.tables.listeners.find(listenerId);
    if (!listener) return undefined;
    const route = this.viewOf(listener);
    const links = options.closeLinks ? [...this.tables.links.all()].filter((link) => link.snapshot().listenerId === listenerId) : [];
    for (const link of links) link.destroy('forced');
    listener.close(options.forGood ? 'closed_for_good' : 'forced', options.reason);
    return { route, closedLinks: links.length };
  }

  /** Stops new dials to a route (an operator's drain); idempotent. The route as it is after. */
  drainRoute(listenerId: string): RouteView | undefined {
    const listener = this.tables.listeners.find(listenerId);
    if (!listener) return undefined;
    listener.drain('operator');
    return this.viewOf(listener);
  }

  /** Closes a link at once (both sockets). The link as it was, or undefined when it is not here. */
  closeLink(linkId: string): LinkView | undefined {
    const link = this.tables.links.find(linkId);
    if (!link) return undefined;
    const view = linkView(link, link.snapshot(), this.now());
    link.destroy('forced');
    return view;
  }

  /** Cheap: every figure is a size the relay keeps. */
  counts(): RelayCounts {
    const { listeners, links, dialers } = this.tables;
    return {
      routes: listeners.size,
      links: links.size,
      waitingDialers: dialers.size,
      spares: this.port.spareCount,
      connections: this.port.connectionCount,
    };
  }

  /** One pass over the open links. */
  openLinkBytes(): OpenLinkBytes {
    let toListeners = 0;
    let toDialers = 0;
    for (const link of this.linkBytes()) {
      toListeners += link.toListener;
      toDialers += link.toDialer;
    }
    return { toListeners, toDialers };
  }

  /** Each open link's bytes so far, each way: no views built (a status page reads it every second). */
  *linkBytes(): Generator<{ linkId: string; toListener: number; toDialer: number }> {
    for (const link of this.tables.links.all()) yield { linkId: link.id, toListener: link.bytesToListener, toDialer: link.bytesToDialer };
  }

  /** What /readyz reports for the data plane. */
  get isAccepting(): boolean {
    return this.port.isAccepting;
  }

  /** What /readyz reports for the cluster's route directory: false while this node cannot renew its leases; undefined on a single node. */
  get takesListeners(): boolean | undefined {
    return this.port.takesListeners;
  }

  /** A secret on the relay port (the metrics token) is throttled with its key failures. */
  authRetryAfterMs(req: IncomingMessage): number {
    return this.port.authRetryAfterMs(req);
  }

  recordAuthFailure(req: IncomingMessage, path: string): void {
    this.port.recordAuthFailure(req, path);
  }

  heldBy(keyId: string): HeldCounts {
    return this.holdings.heldBy(keyId);
  }

  closeKeyConnections(keyId: string): SeveredCounts {
    return this.holdings.closeKeyConnections(keyId);
  }

  private viewOf(listener: RouteListener): RouteView {
    return routeView(listener, this.routeCounters().get(listener.id));
  }

  /** What each route's waiting dialers and open links add up to, in one pass over the tables. */
  private routeCounters(): Map<string, RouteCounters> {
    const byListener = new Map<string, RouteCounters>();
    const entry = (listenerId: string): RouteCounters => {
      let counters = byListener.get(listenerId);
      if (!counters) byListener.set(listenerId, (counters = { waitingDialers: 0, bytesToListener: 0, bytesToDialers: 0 }));
      return counters;
    };
    for (const dialer of this.tables.dialers.all()) entry(dialer.listenerId).waitingDialers++;
    for (const link of this.tables.links.all()) {
      const snapshot = link.snapshot();
      const counters = entry(snapshot.listenerId);
      counters.bytesToListener += snapshot.bytesToListener;
      counters.bytesToDialers += snapshot.bytesToDialer;
    }
    return byListener;
  }
}

/** A listener's view; counters default to none (an event's route, or one with nothing waiting). */
export function routeView(listener: RouteListener, counters?: RouteCounters): RouteView {
  return {
    ...routeSnapshotOf(listener),
    state: listener.state,
    policy: listener.policy,
    features: [...listener.features],
    activeLinks: listener.activeLinks,
    slowDialbacks: listener.slowDialbacks,
    spares: listener.spareCount,
    waitingDialers: counters?.waitingDialers ?? 0,
    bytesToListener: counters?.bytesToListener ?? 0,
    bytesToDialers: counters?.bytesToDialers ?? 0,
  };
}

function linkView(link: Link, snapshot: LinkSnapshot, now: number): LinkView {
  return { ...snapshot, idleMs: Math.max(0, link.idleMs(now)), idleTimeoutMs: link.idleTimeoutMs, moved: link.isMoved };
}
