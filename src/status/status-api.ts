/**
 * What the page's JSON API answers and does: views of routes, links and keys
 * read through the relay's door and the key store, and the four actions.
 * Views are plain rows made here; an ApiKey holds no secret, and no row is
 * built from anything that does.
 */
import type { ApiKey, KeyRole, KeyStore } from '../keys/api-key';
import type { KeyEvents } from '../control/key-events';
import type { LinkView, RelayAdmin, RouteView } from '../relay/relay-admin';
import { type Page, type PageQuery, pageOf } from './status-data';
import type { StatusStreams } from './status-stream';

export interface RouteRow {
  id: string;
  path: string;
  state: string;
  policy: string;
  spares: number;
  waitingDialers: number;
  activeLinks: number;
  keyId: string;
  keyLabel: string;
  address: string;
  since: string;
  ageMs: number;
  bytesToListener: number;
  bytesToDialers: number;
}

export interface LinkRow {
  id: string;
  path: string;
  routeId: string;
  dialerAddress: string;
  /** undefined once its route has gone. */
  listenerAddress: string | undefined;
  since: string;
  ageMs: number;
  bytesToListener: number;
  bytesToDialer: number;
  /** Bytes per second from the last two ticks; null while no page is streaming or the link is new. */
  rateToListener: number | null;
  rateToDialer: number | null;
}

export interface KeyRow {
  id: string;
  role: KeyRole;
  label: string;
  scopes: readonly string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** Most keys the page lists: keys are few; this bounds an answer, not the store. */
const MAX_KEYS_LISTED = 10_000;

/** An action's outcome: what the page shows in its result line. */
export type ActionResult = { ok: true; message: string } | { ok: false; status: 404; code: 'not_found'; message: string };

export class StatusApi {
  constructor(
    private readonly relay: RelayAdmin,
    private readonly store: KeyStore,
    private readonly keyEvents: KeyEvents,
    private readonly streams: StatusStreams,
    private readonly now: () => number = Date.now,
  ) {}

  async routes(query: PageQuery): Promise<Page<RouteRow>> {
    const page = pageOf(this.relay.routes().sort(oldestFirst), query);
    const labels = await this.keyLabels(page.items.map((r) => r.keyId));
    return { ...page, items: page.items.map((route) => this.routeRow(route, labels.get(route.keyId) ?? '')) };
  }

  links(query: PageQuery): Page<LinkRow> {
    const page = pageOf(this.relay.links().sort(oldestFirst), query);
    // Listener addresses for this page's links only, without the counters over every dialer and link.
    const listenerAddress = (id: string): string | undefined => this.relay.route(id, { counters: false })?.listenerAddress;
    return { ...page, items: page.items.map((link) => this.linkRow(link, listenerAddress(link.listenerId))) };
  }

  async keys(query: PageQuery): Promise<Page<KeyRow>> {
    const keys = await this.store.list({ includeRevoked: true, limit: MAX_KEYS_LISTED });
    const page = pageOf(keys, query);
    return { ...page, items: page.items.map(keyRow) };
  }

  closeLink(id: string): ActionResult {
    const link = this.relay.closeLink(id);
    if (!link) return notFound(`no open link ${id}: it may have closed already`);
    return { ok: true, message: `closed link ${id} on ${link.path}` };
  }

  closeRoute(id: string, options: { closeLinks: boolean }): ActionResult {
    const closed = this.relay.closeRoute(id, { closeLinks: options.closeLinks, reason: 'closed from the status page' });
    if (!closed) return notFound(`no route ${id}: its listener may have gone already`);
    const links = options.closeLinks ? ` and ${closed.closedLinks} link(s)` : '';
    return { ok: true, message: `closed route ${closed.route.path}${links}` };
  }

  drainRoute(id: string): ActionResult {
    const route = this.relay.drainRoute(id);
    if (!route) return notFound(`no route ${id}: its listener may have gone already`);
    return { ok: true, message: `route ${route.path} is draining: no new dials reach it` };
  }

  /**
   * As the gRPC RevokeKey does: the store's revocation tells the relay's key
   * enforcer, which closes what the key holds before the store answers; the
   * first revocation is a `key:revoke` event on the same KeyEvents.
   */
  async revokeKey(id: string): Promise<ActionResult> {
    const key = await this.store.get(id);
    if (!key) return notFound(`no key ${id}`);
    const before = this.relay.heldBy(id);
    const revoked = (await this.store.revoke(id, { keepLinks: false })) ?? key;
    const after = this.relay.heldBy(id);
    if (!key.revokedAt) this.keyEvents.emit('key:revoke', revoked);
    const closedRoutes = before.routes - after.routes;
    const closedLinks = before.links - after.links;
    const label = key.label === '' ? id : `"${key.label}"`;
    return { ok: true, message: `revoked key ${label}: closed ${closedRoutes} route(s) and ${closedLinks} link(s)` };
  }

  private routeRow(route: RouteView, keyLabel: string): RouteRow {
    return {
      id: route.listenerId,
      path: route.path,
      state: route.state,
      policy: route.policy,
      spares: route.spares,
      waitingDialers: route.waitingDialers,
      activeLinks: route.activeLinks,
      keyId: route.keyId,
      keyLabel,
      address: route.listenerAddress,
      since: route.since.toISOString(),
      ageMs: Math.max(0, this.now() - route.since.getTime()),
      bytesToListener: route.bytesToListener,
      bytesToDialers: route.bytesToDialers,
    };
  }

  private linkRow(link: LinkView, listenerAddress: string | undefined): LinkRow {
    const rate = this.streams.linkRate(link.linkId);
    return {
      id: link.linkId,
      path: link.path,
      routeId: link.listenerId,
      dialerAddress: link.dialerAddress,
      listenerAddress,
      since: link.since.toISOString(),
      ageMs: Math.max(0, this.now() - link.since.getTime()),
      bytesToListener: link.bytesToListener,
      bytesToDialer: link.bytesToDialer,
      rateToListener: rate?.inPerSecond ?? null,
      rateToDialer: rate?.outPerSecond ?? null,
    };
  }

  /** Labels of the keys a page of routes names (few distinct keys). */
  private async keyLabels(ids: readonly string[]): Promise<Map<string, string>> {
    const labels = new Map<string, string>();
    for (const id of new Set(ids)) labels.set(id, (await this.store.get(id))?.label ?? '');
    return labels;
  }
}

function keyRow(key: ApiKey): KeyRow {
  return {
    id: key.id,
    role: key.role,
    label: key.label,
    scopes: [...key.scopes],
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

function notFound(message: string): ActionResult {
  return { ok: false, status: 404, code: 'not_found', message };
}

/** Oldest first, so that a page's rows stay put while newer ones arrive. */
function oldestFirst(a: { since: Date; path: string }, b: { since: Date; path: string }): number {
  return a.since.getTime() - b.since.getTime() || a.path.localeCompare(b.path);
}
