/**
 * The relay's RouteDirectory in cluster mode: route leases (route-leases.ts),
 * each node's address and inbox, where dials wait, and the node-to-node hop.
 *
 * Redis per link, at most: the dialer's node looks the path up and records
 * where its dialer waits (when the path has no listener of its own), the
 * listener's node hears the offer on its inbox, and the node that takes the
 * dial-back (when it is neither) asks where the dialer waits. Nothing runs
 * per byte: the bytes go over the one hop, a plain TCP connection.
 *
 * Layout, under "remoted:": node:<id> (its hop address, renewed with the
 * leases), to:<id> (its inbox, a pub/sub channel), dial:<path>\n<id> (the node
 * where that dialer waits, expiring with its wait).
 */
import type { Socket } from 'node:net';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import { type ClusterAnswers, type ClusterClaim, type ClusterQuestion, type DirectoryHost, HOP_HEADER, type HopRequest, type RemoteDialOffer, type RemoteListener, type RouteDirectory } from '../relay/context/route-directory';
import type { RoutePolicy } from '../keys/route-policy';
import { hopHeaderValue, hopRequestText, openHop, parseNodeAddress, verifyHopHeader } from './node-hop';
import { RouteLeases } from './route-leases';
import { COMMAND_CONNECTION, connectWithin, quitOrDisconnect, redactedUrl, reportReachability } from './redis-connection';

const PREFIX = 'remoted:';
/** Sorted set of the live nodes, scored by when each stops counting as live (three leases after its last renewal). */
const NODES = `${PREFIX}nodes`;
/** Largest message a node's inbox accepts: offers and closes are a few hundred bytes. */
const MAX_MESSAGE_BYTES = 16 * 1024;
/** A node's address is cached this long: nodes do not move while they run. */
const ADDRESS_CACHE_MS = 10_000;
/** Offers remembered at once: a bound on memory; past it they are forgotten and Redis answers instead. */
const MAX_OFFERS_HEARD = 10_000;

type NodeMessage =
  | { op: 'offer'; offer: RemoteDialOffer }
  | { op: 'close'; listenerId: string }
  | { op: 'ask'; requestId: string; from: string; question: ClusterQuestion }
  | { op: 'answer'; requestId: string; from: string; answer: unknown };

/** Questions of this node's control plane waiting for answers at once: a bound on what an admin's burst holds. */
const MAX_QUESTIONS = 64;
/** An answer carries a node's views: the inbox takes it up to this size (a larger one is dropped, and the node named unanswered). */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

export interface ClusterDirectoryOptions {
  redisUrl: string;
  nodeId: string;
  secret: string;
  leaseMs: number;
  log: Logger;
}

export class ClusterDirectory implements RouteDirectory {
  readonly nodeId: string;
  private readonly leases: RouteLeases;
  private host: DirectoryHost | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** When the last renewal that Redis answered was sent (this node's clock). */
  private lastRenewedAt: number;
  private renewing = false;
  private readonly addresses = new Map<string, { address: string; until: number }>();
  /** This node's questions to the others, by request id, with what came back so far. */
  private readonly questions = new Map<string, { answers: ClusterAnswers['answers']; waiting: Set<string>; done: () => void }>();
  private questionsAsked = 0;
  /** Offers this node's inbox brought, by dial, until their dial-back comes or their dialer's wait is over. */
  private readonly offersHeard = new Map<string, { nodeId: string; until: number }>();
  private nodeAddress = '';
  /** Releases sent and not answered yet: stop() waits for them, so a clean shutdown frees its paths at once. */
  private readonly releasing = new Set<Promise<void>>();

  private constructor(
    private readonly redis: Redis,
    private readonly inbox: Redis,
    private readonly options: ClusterDirectoryOptions,
  ) {
    this.nodeId = options.nodeId;
    this.leases = new RouteLeases({ redis, nodeId: options.nodeId, leaseMs: options.leaseMs });
    this.lastRenewedAt = Date.now();
  }

  static async open(options: ClusterDirectoryOptions): Promise<ClusterDirectory> {
    const where = redactedUrl(options.redisUrl);
    const log = options.log.child({ component: 'cluster-directory' });
    const redis = new Redis(options.redisUrl, { ...COMMAND_CONNECTION, connectionName: 'remoted-directory' });
    const inbox = redis.duplicate({ connectionName: 'remoted-inbox', commandTimeout: undefined });
    reportReachability(redis, log, 'directory');
    reportReachability(inbox, log, 'inbox');
    try {
      await connectWithin(redis, where);
      await connectWithin(inbox, where);
      await inbox.subscribe(`${PREFIX}to:${options.nodeId}`);
    } catch (err) {
      redis.disconnect();
      inbox.disconnect();
      throw err;
    }
    return new ClusterDirectory(redis, inbox, { ...options, log });
  }

  async start(host: DirectoryHost, nodeAddress: string): Promise<void> {
    if (!parseNodeAddress(nodeAddress)) throw new Error(`REMOTED_NODE_ADDRESS ${nodeAddress}: expected host:port`);
    this.nodeAddress = nodeAddress;
    await this.announce();
    this.lastRenewedAt = Date.now();
    this.host = host;
    this.inbox.on('message', (_channel: string, text: string) => this.received(text));
    // Three renewals per lease: one lost renewal costs nothing.
    this.renewTimer = setInterval(() => void this.renew(), Math.max(10, Math.floor(this.options.leaseMs / 3)));
    this.renewTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.renewTimer);
    await Promise.all([...this.releasing]);
    await this.redis.del(`${PREFIX}node:${this.nodeId}`).catch(() => undefined);
    await this.redis.zrem(NODES, this.nodeId).catch(() => undefined);
    await Promise.all([quitOrDisconnect(this.inbox), quitOrDisconnect(this.redis)]);
  }

  /**
   * Half a lease without a renewal Redis answered: this node may be cut off,
   * and by the end of the lease another may hold its paths; it takes no new
   * listener meanwhile (and /readyz says so).
   */
  get takesListeners(): boolean {
    return Date.now() - this.lastRenewedAt < this.options.leaseMs / 2;
  }

  async claim(input: { path: string; listenerId: string; keyId: string; policy: RoutePolicy; poolSize: number }): Promise<ClusterClaim> {
    const result = await this.leases.claim(input);
    if (!result.admitted) return result;
    // Replaced listeners on other nodes are closed there; this node's own are the relay's to close.
    for (const replaced of result.replaces) {
      if (replaced.nodeId !== this.nodeId) void this.send(replaced.nodeId, { op: 'close', listenerId: replaced.listenerId });
    }
    return result;
  }

  release(path: string, listenerId: string): void {
    const released = this.leases
      .release(path, listenerId)
      .catch((err: unknown) => this.options.log.debug({ err, path }, 'route lease not released; it expires by itself'))
      .finally(() => this.releasing.delete(released));
    this.releasing.add(released);
  }

  async listenersElsewhere(path: string): Promise<RemoteListener[]> {
    try {
      const leases = await this.leases.lookup(path);
      return leases.filter((lease) => lease.nodeId !== this.nodeId && lease.state === 'active').map(({ nodeId, listenerId, keyId }) => ({ nodeId, listenerId, keyId }));
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message, path }, 'route directory unreachable: only this node\'s listeners are seen');
      return [];
    }
  }

  async offer(to: RemoteListener, offer: RemoteDialOffer): Promise<boolean> {
    return this.send(to.nodeId, { op: 'offer', offer });
  }

  async dialWaits(path: string, id: string, ttlMs: number): Promise<void> {
    try {
      await this.redis.set(dialKey(path, id), this.nodeId, 'PX', Math.max(1, ttlMs));
    } catch (err) {
      // Without the record only a dial-back that lands on this node links; the dialer's deadline answers the rest.
      this.options.log.warn({ err: (err as Error).message, path }, 'where a dial waits was not recorded');
    }
  }

  async pickElsewhere(path: string, id: string, ttlMs: number): Promise<RemoteListener | undefined> {
    try {
      const lease = await this.leases.pickElsewhere(path, { key: dialKey(path, id), value: this.nodeId, ttlMs });
      return lease && { nodeId: lease.nodeId, listenerId: lease.listenerId, keyId: lease.keyId };
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message, path }, 'route directory unreachable: only this node\'s listeners are seen');
      return undefined;
    }
  }

  async whereDialWaits(path: string, id: string): Promise<string | undefined> {
    // The offer for this dial came through this node's inbox: it named the dialer's node, so Redis need not.
    const heard = this.offersHeard.get(dialKey(path, id));
    if (heard !== undefined) {
      this.offersHeard.delete(dialKey(path, id));
      if (heard.until > Date.now()) return heard.nodeId !== this.nodeId ? heard.nodeId : undefined;
    }
    const nodeId = await this.redis.get(dialKey(path, id)).catch(() => null);
    return nodeId !== null && nodeId !== this.nodeId ? nodeId : undefined;
  }

  async openHop(toNodeId: string, hop: HopRequest): Promise<{ socket: Socket; head: Buffer }> {
    const text = await this.addressOf(toNodeId);
    const address = text === undefined ? undefined : parseNodeAddress(text);
    if (!address) throw new Error(`node ${toNodeId} has no address in the cluster (gone?)`);
    const header = hopHeaderValue(this.options.secret, toNodeId, hop, Date.now());
    return openHop(address, hopRequestText(text!, hop, header));
  }

  verifyHop(headers: Record<string, string | string[] | undefined>, path: string, id: string): HopRequest | undefined {
    const value = headers[HOP_HEADER];
    return verifyHopHeader(this.options.secret, this.nodeId, typeof value === 'string' ? value : undefined, path, id, Date.now());
  }

  async askOthers(question: ClusterQuestion, timeoutMs: number): Promise<ClusterAnswers> {
    const now = Date.now();
    const others = (await this.redis.zrangebyscore(NODES, now, '+inf')).filter((nodeId) => nodeId !== this.nodeId);
    if (others.length === 0) return { answers: [], unanswered: [] };
    if (this.questions.size >= MAX_QUESTIONS) return { answers: [], unanswered: others };
    const requestId = `${this.nodeId}:${++this.questionsAsked}`;
    const answers: ClusterAnswers['answers'] = [];
    const waiting = new Set(others);
    let timer: NodeJS.Timeout | undefined;
    const finished = new Promise<void>((done) => {
      this.questions.set(requestId, { answers, waiting, done });
      timer = setTimeout(done, timeoutMs);
    });
    try {
      await Promise.all(others.map((nodeId) => this.send(nodeId, { op: 'ask', requestId, from: this.nodeId, question })));
      await finished;
    } finally {
      clearTimeout(timer);
      this.questions.delete(requestId);
    }
    return { answers, unanswered: [...waiting] };
  }

  /**
   * Keeps this node's hop address and its place in the set of live nodes (for
   * the control plane's questions) for three leases, in one round trip.
   */
  private async announce(): Promise<void> {
    const now = Date.now();
    const liveForMs = this.options.leaseMs * 3;
    const replies = await this.redis
      .multi()
      .set(`${PREFIX}node:${this.nodeId}`, this.nodeAddress, 'PX', liveForMs)
      .zadd(NODES, now + liveForMs, this.nodeId)
      .zremrangebyscore(NODES, '-inf', now)
      .exec();
    const failed = replies?.find(([err]) => err !== null)?.[0];
    if (!replies || failed) throw failed ?? new Error('the node announcement was not run');
  }

  private async addressOf(nodeId: string): Promise<string | undefined> {
    const cached = this.addresses.get(nodeId);
    if (cached && cached.until > Date.now()) return cached.address;
    const address = await this.redis.get(`${PREFIX}node:${nodeId}`);
    if (address === null) return undefined;
    if (this.addresses.size > 1024) this.addresses.clear();
    this.addresses.set(nodeId, { address, until: Date.now() + ADDRESS_CACHE_MS });
    return address;
  }

  private async send(nodeId: string, message: NodeMessage): Promise<boolean> {
    try {
      return (await this.redis.publish(`${PREFIX}to:${nodeId}`, JSON.stringify(message))) > 0;
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message, node: nodeId, op: message.op }, 'message to a node not sent');
      return false;
    }
  }

  private received(text: string): void {
    const message = text.length <= MAX_ANSWER_BYTES ? parseMessage(text) : undefined;
    if (!message || !this.host) return;
    if (message.op === 'answer') {
      const asked = this.questions.get(message.requestId);
      if (!asked || !asked.waiting.delete(message.from)) return;
      asked.answers.push({ nodeId: message.from, answer: message.answer });
      if (asked.waiting.size === 0) asked.done();
      return;
    }
    // Only answers may be large: a question, an offer or a close is a few hundred bytes.
    if (text.length > MAX_MESSAGE_BYTES) return;
    if (message.op === 'ask') {
      let answer: unknown;
      try {
        answer = this.host.answer(message.question);
      } catch (err) {
        this.options.log.warn({ err: (err as Error).message }, 'a question of another node was not answered');
        return;
      }
      void this.send(message.from, { op: 'answer', requestId: message.requestId, from: this.nodeId, answer });
      return;
    }
    if (message.op === 'offer') {
      // Most dial-backs come to the node of their listener: it can find the dialer's node without Redis.
      if (this.offersHeard.size >= MAX_OFFERS_HEARD) this.offersHeard.clear();
      this.offersHeard.set(dialKey(message.offer.path, message.offer.id), { nodeId: message.offer.dialerNodeId, until: Date.now() + message.offer.timeout * 1000 });
      this.host.offer(message.offer);
    }
    else this.host.closeListener(message.listenerId, 'replaced');
  }

  private async renew(): Promise<void> {
    if (this.renewing || !this.host) return;
    this.renewing = true;
    const sentAt = Date.now();
    try {
      await this.announce();
      const { lost } = await this.leases.renew(this.host.heldListeners());
      this.lastRenewedAt = sentAt;
      for (const { listenerId } of lost) this.host.closeListener(listenerId, 'lease_lost');
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'route leases not renewed');
      // Cut off for the whole lease: another node may hold these paths now, so this node lets them go.
      if (Date.now() - this.lastRenewedAt >= this.options.leaseMs) {
        for (const { listenerId } of this.host.heldListeners()) this.host.closeListener(listenerId, 'lease_lost');
      }
    } finally {
      this.renewing = false;
    }
  }
}

function dialKey(path: string, id: string): string {
  return `${PREFIX}dial:${path.length > 512 ? path.slice(0, 512) : path}\n${id}`;
}

/** A message of another node, checked field by field: a malformed one is dropped. */
function parseMessage(text: string): NodeMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (record.op === 'close' && typeof record.listenerId === 'string') return { op: 'close', listenerId: record.listenerId };
  if (record.op === 'answer' && typeof record.requestId === 'string' && typeof record.from === 'string') {
    return { op: 'answer', requestId: record.requestId, from: record.from, answer: record.answer };
  }
  if (record.op === 'ask' && typeof record.requestId === 'string' && typeof record.from === 'string') {
    const question = parseQuestion(record.question);
    return question && { op: 'ask', requestId: record.requestId, from: record.from, question };
  }
  if (record.op !== 'offer' || typeof record.offer !== 'object' || record.offer === null) return undefined;
  const offer = record.offer as Record<string, unknown>;
  const strings = ['path', 'listenerId', 'id', 'ipaddr', 'dialerNodeId'] as const;
  if (!strings.every((name) => typeof offer[name] === 'string') || typeof offer.timeout !== 'number') return undefined;
  return {
    op: 'offer',
    offer: {
      path: offer.path as string,
      listenerId: offer.listenerId as string,
      id: offer.id as string,
      ipaddr: offer.ipaddr as string,
      timeout: offer.timeout,
      dialerNodeId: offer.dialerNodeId as string,
    },
  };
}

/** A question of another node's control plane: a kind this release knows, and filter values that are strings. */
function parseQuestion(value: unknown): ClusterQuestion | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { kind, filter } = value as { kind?: unknown; filter?: unknown };
  if ((kind !== 'routes' && kind !== 'links') || typeof filter !== 'object' || filter === null) return undefined;
  const fields: Record<string, string> = {};
  for (const name of ['path', 'keyId', 'listenerId'] as const) {
    const field = (filter as Record<string, unknown>)[name];
    if (typeof field === 'string') fields[name] = field;
    else if (field !== undefined) return undefined;
  }
  return kind === 'routes' ? { kind, filter: { path: fields.path, keyId: fields.keyId } } : { kind, filter: { listenerId: fields.listenerId, path: fields.path, keyId: fields.keyId } };
}
