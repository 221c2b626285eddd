/**
 * The WebRoute half of the relay: a dialer waits, its listener is told, the
 * listener dials back, and the two sockets become a Link; or a spare the
 * listener opened beforehand answers the dial at once.
 */
import type { Socket } from 'node:net';
import { randomToken } from '@remoted/sdk/wire/protocol';
import type { ApiKey } from '../../keys/api-key';
import { endWaitingDialer } from './end-waiting-dialer';
import { keyLimitsOf } from '../../keys/key-limits';
import { PerKeyCount } from '../routes/per-key-count';
import { replyError, spareSwitchingAnswer, switchingAnswer } from '../port/http-reply';
import { Link } from '../links/link';
import type { DialOffers } from './dial-offers';
import type { DialsContext } from './dials-context';
import type { RouteDirectory } from '../context/route-directory';
import type { LinkCloseReason } from '../context/relay-events';
import { pickListener } from '../routes/route-admission';
import { joinDialback, type LinkSetupMessage, publishSetup, type SetupTimes, stamp } from '../context/setup-trace';
import type { SpareDialback } from './spare-dialback';
import { WaitingDialer } from './waiting-dialer';
import { effectiveTimeoutSeconds } from '../port/webroute-handshake';

const EMPTY = Buffer.alloc(0);

function replyNoDialer(socket: Socket): void {
  replyError(socket, 'invalid_request', 'No dialer is waiting with this WebRoute-ID on this path.');
}

/**
 * What the broker asks of whoever keeps the latest word on keys (the relay's
 * key enforcer), where it makes a choice: a key checked only when its request
 * arrived may have expired or lost the path since.
 */
export interface KeyCheck {
  /** Whether the key may still be used on the path now. */
  holds(keyId: string, path: string): boolean;
  /** Closes what the key, as last seen, may no longer hold. */
  enforce(keyId: string): void;
}

export interface WebRouteCall {
  socket: Socket;
  head: Buffer;
  key: ApiKey;
  path: string;
  /** The client's address in the protocol's `ipaddr` form (see client-address.ts). */
  address: string;
  id: string;
  requestedTimeoutSeconds: number | undefined;
  /** The peer loses bytes that arrive in the same read as its 101 (legacy-peer.ts). */
  holdsBytesAfter101: boolean;
  /** Its setup stages so far, when someone traces them (setup-trace.ts). */
  times?: SetupTimes;
}

/** One side of a link about to be made: its socket, what came with its headers, and how it reads. */
interface LinkingSide {
  socket: Socket;
  /** Its 101. */
  answer: string;
  head: Buffer;
  /** It loses bytes that arrive in the same read as its 101 (legacy-peer.ts). */
  holdsBytesAfter101: boolean;
}

/** Who is being linked, for the Link and the events. */
interface LinkingPair {
  path: string;
  listenerId: string;
  dialerKeyId: string;
  listenerKeyId: string;
  dialerAddress: string;
  dialer: LinkingSide;
  listener: LinkingSide;
  idleTimeoutMs: number;
  /** When the dial arrived (epoch ms). */
  dialedAtMs: number;
  via: LinkSetupMessage['via'];
  times: SetupTimes | undefined;
}

export class LinkBroker {
  /** Open links per dialer key: only keys with a live link have an entry. */
  private readonly linksPerKey = new PerKeyCount();
  /**
   * Link ids: a random prefix per relay start and a counter, unique without
   * drawing random bytes per link (ids name links to admins; they grant nothing).
   */
  private readonly linkIdPrefix = `lnk_${randomToken(8)}`;
  private linksMade = 0;

  constructor(
    private readonly ctx: DialsContext,
    private readonly keys: KeyCheck,
    private readonly offers: DialOffers,
  ) {}

  /** A client asks for a link: take a spare of the route, or hold the dialer and tell a listener. */
  dial(call: WebRouteCall): void {
    const { listeners, dialers, config, events } = this.ctx;
    const { socket, head, key, path, id } = call;
    let onPath = listeners.on(path);
    // Checked where the choice is made: a listener whose key expired since the
    // last sweep (or lost the path) is closed now and told of nothing. The
    // listeners of a path share one key, so none of them is left then.
    if (onPath.length > 0 && !this.keys.holds(onPath[0].keyId, path)) {
      this.keys.enforce(onPath[0].keyId);
      onPath = listeners.on(path);
    }
    const listener = pickListener(onPath);
    if (!listener) {
      // Cluster mode: a path with no listener here may have one on another node.
      if (onPath.length === 0 && this.ctx.directory) return void this.dialElsewhere(call, this.ctx.directory);
      const message = onPath.length > 0 ? 'Every listener on this path is draining.' : undefined;
      return replyError(socket, 'missing_destination', message);
    }
    if (!this.admitsDial(call)) return;
    const timeoutSeconds = effectiveTimeoutSeconds(config.defaultTimeoutSeconds, call.requestedTimeoutSeconds);
    const spare = this.ctx.spares.take(listener.id);
    if (spare) {
      listener.markOffered(this.offers.nextOrder());
      stamp(call.times, 'chosen');
      return this.linkToSpare(call, timeoutSeconds, spare);
    }
    const dialer = this.hold(call, timeoutSeconds);
    if (!dialer) return;
    stamp(call.times, 'chosen');
    const { directory } = this.ctx;
    if (!directory) {
      if (!this.offers.offer(dialer, listener)) this.offers.offerElsewhereOrEnd(dialer);
      return;
    }
    // Cluster mode: the listener's dial-back may land on another node, which must find this one; the
    // listener is told once Redis has the record, so that no dial-back can arrive before it.
    void directory.dialWaits(path, id, dialer.deadlineMs - this.ctx.now()).then(() => {
      if (dialer.isEnded) return;
      if (!this.offers.offer(dialer, listener)) this.offers.offerElsewhereOrEnd(dialer);
    });
  }

  /** A side that sent more than maxPreLinkBytes with its request is answered 503; true when it was. */
  private refusesPreLinkBytes(call: Omit<WebRouteCall, 'key'>): boolean {
    if (call.head.length <= this.ctx.config.limits.maxPreLinkBytes) return false;
    this.ctx.events.emit('capacity:reached', { limit: 'pre_link_bytes', path: call.path });
    replyError(call.socket, 'over_capacity', 'Too many bytes were sent before the link was made.');
    return true;
  }

  /** The dial's own limits (bytes sent early, links of its key); false when it was answered. */
  private admitsDial(call: WebRouteCall): boolean {
    const { config, events } = this.ctx;
    const { socket, key, path } = call;
    if (this.refusesPreLinkBytes(call)) return false;
    const limits = keyLimitsOf(key, config.limits);
    if (this.linksPerKey.of(key.id) >= limits.maxLinks) {
      this.ctx.log.warn({ key: key.id, route: path, limit: limits.maxLinks }, 'links per key limit reached');
      events.emit('capacity:reached', { limit: 'links_per_key', path });
      replyError(socket, 'over_capacity', 'This key has too many open links.');
      return false;
    }
    return true;
  }

  /** Holds the dialer until a dial-back; undefined when a limit answered it. */
  private hold(call: WebRouteCall, timeoutSeconds: number): WaitingDialer | undefined {
    const { dialers, config, events } = this.ctx;
    const { socket, head, key, path, id } = call;
    // The wait is bounded by the relay's default, not the dialer's own timeout,
    // so no dialer holds a waiting slot for longer (as the original).
    const deadlineMs = this.ctx.now() + config.defaultTimeoutSeconds * 1000;
    const limits = keyLimitsOf(key, config.limits);
    if (dialers.countOf(key.id) >= limits.maxWaitingDialers) {
      this.ctx.log.warn({ key: key.id, route: path, limit: limits.maxWaitingDialers }, 'waiting dialers per key limit reached');
      events.emit('capacity:reached', { limit: 'waiting_dialers_per_key', path });
      replyError(socket, 'over_capacity', `This key has ${limits.maxWaitingDialers} dials waiting already.`);
      return undefined;
    }
    const dialer = new WaitingDialer(path, id, socket, head, key, call.address, timeoutSeconds, deadlineMs, call.holdsBytesAfter101, call.times);
    const added = dialers.add(dialer, config.limits.maxWaitingDialersPerRoute);
    if (added === 'route_full') {
      this.ctx.log.warn({ route: path, limit: config.limits.maxWaitingDialersPerRoute }, 'waiting dialers per route limit reached');
      events.emit('capacity:reached', { limit: 'waiting_dialers_per_route', path });
      replyError(socket, 'over_capacity', 'Too many dialers are waiting on this path.');
      return undefined;
    }
    if (added === 'duplicate_id') {
      replyError(socket, 'invalid_request', 'A dialer with this WebRoute-ID is already waiting.');
      return undefined;
    }
    dialer.watchClose(this.onWaitingDialerClosed);
    return dialer;
  }

  /**
   * Cluster mode, a path whose listeners are all on other nodes: the dialer
   * waits here, and the listener's node is asked to tell its listener. Its
   * dial-back lands wherever the balancer sends it: here (a local link), or
   * on another node, which hops to this one (dialBackElsewhere there,
   * hopArrived here).
   */
  private async dialElsewhere(call: WebRouteCall, directory: RouteDirectory): Promise<void> {
    const { path, id } = call;
    if (!this.admitsDial(call)) return;
    const timeoutSeconds = effectiveTimeoutSeconds(this.ctx.config.defaultTimeoutSeconds, call.requestedTimeoutSeconds);
    // A spare held here for a listener on another node links at once: no hop, no Redis operation.
    const spare = this.ctx.spares.takeOnPath(path);
    if (spare) {
      stamp(call.times, 'chosen');
      return this.linkToSpare(call, timeoutSeconds, spare);
    }
    const dialer = this.hold(call, timeoutSeconds);
    if (!dialer) return;
    // One round trip: a listener on another node (at random: each node counts only its own links, so no
    // choice here is better informed), and where this dialer waits, for a dial-back that lands elsewhere.
    const target = await directory.pickElsewhere(path, id, dialer.deadlineMs - this.ctx.now());
    if (dialer.isEnded) return;
    if (!target) return endWaitingDialer(this.ctx, dialer, 'listener_gone');
    dialer.offeredTo(target.listenerId, target.keyId);
    stamp(call.times, 'chosen');
    const sent = await directory.offer(target, { path, listenerId: target.listenerId, id, ipaddr: dialer.address, timeout: dialer.timeoutSeconds, dialerNodeId: directory.nodeId });
    if (!sent) endWaitingDialer(this.ctx, dialer, 'listener_gone');
  }

  /** The listener dials back with the id it was told: link the two. */
  dialBack(call: WebRouteCall): void {
    const { socket, key, path, id } = call;
    const dialer = this.ctx.dialers.find(path, id);
    // Cluster mode: the dialer may wait on another node.
    if (!dialer && this.ctx.directory) return void this.dialBackElsewhere(call, this.ctx.directory);
    this.linkWaitingDialer(call, key.id, 'dialback');
  }

  /**
   * Cluster mode: another node took a dial-back for a dialer waiting here
   * and hops to this node with it (cluster/node-hop.ts). That node checked
   * the listener's key; the hop names it, so the same rule as for a local
   * dial-back holds.
   */
  hopArrived(call: Omit<WebRouteCall, 'key'>, listenerKeyId: string): void {
    this.linkWaitingDialer(call, listenerKeyId, 'hop');
  }

  /** Links the dialer waiting with the call's id to the call's socket: a dial-back, or a hop carrying one. */
  private linkWaitingDialer(call: Omit<WebRouteCall, 'key'>, listenerKeyId: string, via: 'dialback' | 'hop'): void {
    const { dialers, config } = this.ctx;
    const { socket, head, path, id } = call;
    const dialer = dialers.find(path, id);
    // Another server key must not be able to take a link it was not told of.
    if (!dialer || dialer.listenerKeyId !== listenerKeyId) return replyNoDialer(socket);
    // The dialer's key may have expired or lost the path while it waited: it is answered 403, not linked.
    if (!this.keys.holds(dialer.key.id, path)) {
      this.keys.enforce(dialer.key.id);
      return replyNoDialer(socket);
    }
    if (!dialers.remove(dialer)) return replyNoDialer(socket);
    if (this.refusesPreLinkBytes(call)) return dialer.answerListenerGone();
    const dialerHead = dialer.release();
    const listenerSeconds = effectiveTimeoutSeconds(config.defaultTimeoutSeconds, call.requestedTimeoutSeconds);
    const answer = switchingAnswer(id);
    this.link({
      path,
      listenerId: dialer.listenerId,
      dialerKeyId: dialer.key.id,
      listenerKeyId,
      dialerAddress: dialer.address,
      dialer: { socket: dialer.socket, answer, head: dialerHead, holdsBytesAfter101: dialer.holdsBytesAfter101 },
      listener: { socket, answer, head, holdsBytesAfter101: call.holdsBytesAfter101 },
      idleTimeoutMs: Math.min(dialer.timeoutSeconds, listenerSeconds) * 1000,
      dialedAtMs: dialer.since.getTime(),
      via,
      times: joinDialback(dialer.times, call.times),
    });
  }

  /**
   * Cluster mode, a dial-back for a dialer waiting on another node: this
   * node opens the one hop to that node, which links the hop to its dialer,
   * and links the dial-back to the hop here. The dialer's node holds the
   * dialer's link (its key, its counts); this one holds the listener's side.
   */
  private async dialBackElsewhere(call: WebRouteCall, directory: RouteDirectory): Promise<void> {
    const { socket, head, key, path, id } = call;
    const nodeId = await directory.whereDialWaits(path, id);
    if (socket.destroyed) return;
    if (nodeId === undefined) return replyNoDialer(socket);
    if (this.refusesPreLinkBytes(call)) return;
    let hop: { socket: Socket; head: Buffer };
    try {
      hop = await directory.openHop(nodeId, { path, id, listenerKeyId: key.id, fromNodeId: directory.nodeId });
    } catch (err) {
      this.ctx.log.warn({ route: path, node: nodeId, err: err instanceof Error ? err.message : String(err) }, 'hop to the dialer\'s node failed');
      return replyNoDialer(socket);
    }
    if (socket.destroyed) return void hop.socket.destroy();
    const seconds = effectiveTimeoutSeconds(this.ctx.config.defaultTimeoutSeconds, call.requestedTimeoutSeconds);
    this.link({
      path,
      listenerId: '',
      dialerKeyId: '',
      listenerKeyId: key.id,
      dialerAddress: `node ${nodeId}`,
      // The hop already has its 101 (from the dialer's node): nothing to answer it, and what came after that 101 is the dialer's.
      dialer: { socket: hop.socket, answer: '', head: hop.head, holdsBytesAfter101: false },
      listener: { socket, answer: switchingAnswer(id), head, holdsBytesAfter101: call.holdsBytesAfter101 },
      idleTimeoutMs: seconds * 1000,
      dialedAtMs: this.ctx.now(),
      via: 'relayed',
      times: call.times,
    });
  }

  /** A spare of the chosen listener answers the dial at once: no notify, no dial-back round trip. */
  private linkToSpare(call: WebRouteCall, timeoutSeconds: number, spare: SpareDialback): void {
    const spareSocket = spare.take();
    this.link({
      path: call.path,
      listenerId: spare.listenerId,
      dialerKeyId: call.key.id,
      listenerKeyId: spare.keyId,
      dialerAddress: call.address,
      dialer: { socket: call.socket, answer: switchingAnswer(call.id), head: call.head, holdsBytesAfter101: call.holdsBytesAfter101 },
      // A spare comes from our SDK (spares are an extension), which keeps early bytes.
      listener: {
        socket: spareSocket,
        answer: spareSwitchingAnswer(spare.id, { address: call.address, id: call.id, timeoutSeconds }),
        head: EMPTY,
        holdsBytesAfter101: false,
      },
      idleTimeoutMs: Math.min(timeoutSeconds, spare.timeoutSeconds) * 1000,
      dialedAtMs: this.ctx.now(),
      via: 'spare',
      times: call.times,
    });
  }

  private link(pair: LinkingPair): void {
    const { config, links, listeners } = this.ctx;
    const delayFor = (side: LinkingSide): number => (side.holdsBytesAfter101 ? config.legacyPeerDelayMs : 0);
    const link = new Link(
      {
        id: `${this.linkIdPrefix}${(++this.linksMade).toString(36)}`,
        path: pair.path,
        listenerId: pair.listenerId,
        dialerKeyId: pair.dialerKeyId,
        listenerKeyId: pair.listenerKeyId,
        dialerAddress: pair.dialerAddress,
        dialer: { socket: pair.dialer.socket, answer: pair.dialer.answer, head: pair.dialer.head, receiveDelayMs: delayFor(pair.dialer) },
        listener: { socket: pair.listener.socket, answer: pair.listener.answer, head: pair.listener.head, receiveDelayMs: delayFor(pair.listener) },
        idleTimeoutMs: pair.idleTimeoutMs,
        now: this.ctx.now(),
        splice: this.ctx.splice,
      },
      this.onLinkClosed,
    );
    links.add(link);
    listeners.find(pair.listenerId)?.countLink(1);
    this.linksPerKey.add(pair.dialerKeyId);
    stamp(pair.times, 'linked');
    link.start();
    stamp(pair.times, 'started');
    // Guarded: thousands of links a second would each build the line's fields for a level that is off.
    if (this.ctx.log.isLevelEnabled('info')) this.ctx.log.info({ link: link.id, route: pair.path, dialer: pair.dialerAddress }, 'link opened');
    this.ctx.events.emit('link:open', { ...link.snapshot(), handshakeMs: this.ctx.now() - pair.dialedAtMs, via: pair.via });
    if (pair.times) {
      stamp(pair.times, 'announced');
      publishSetup({ linkId: link.id, path: pair.path, via: pair.via, times: pair.times });
    }
  }

  private readonly onWaitingDialerClosed = (dialer: WaitingDialer): void => endWaitingDialer(this.ctx, dialer, 'dialer_closed');

  private readonly onLinkClosed = (link: Link, reason: LinkCloseReason): void => {
    this.ctx.links.remove(link);
    const snapshot = link.snapshot();
    this.ctx.listeners.find(snapshot.listenerId)?.countLink(-1);
    this.linksPerKey.remove(snapshot.dialerKeyId);
    if (this.ctx.log.isLevelEnabled('info')) {
      this.ctx.log.info(
        { link: link.id, route: snapshot.path, reason, bytesToListener: snapshot.bytesToListener, bytesToDialer: snapshot.bytesToDialer },
        'link closed',
      );
    }
    this.ctx.events.emit('link:close', { ...snapshot, reason });
  };
}
