/**
 * Where, in a cluster, a path's listeners are and where a dial waits: the
 * seam cluster mode plugs into (src/cluster/cluster-directory.ts). A single
 * node has none, and every room then works on its own tables alone, as it
 * always did. Ids and plain values cross it, never a live relay object, so
 * that what it answers may come from another process.
 */
import type { Socket } from 'node:net';
import type { RoutePolicy } from '../../keys/route-policy';

/** A listener held by another node. */
export interface RemoteListener {
  nodeId: string;
  listenerId: string;
  keyId: string;
}

/** A dial offered to a listener on another node: what its notify message says, and where the dialer waits. */
export interface RemoteDialOffer {
  path: string;
  listenerId: string;
  /** The dialer's WebRoute id, which the listener dials back with. */
  id: string;
  ipaddr: string;
  timeout: number;
  dialerNodeId: string;
}

/** What a node-to-node hop carries: a dial-back taken on one node for a dialer waiting on another. */
export interface HopRequest {
  path: string;
  id: string;
  /** The key the dial-back authenticated with on the node that took it. */
  listenerKeyId: string;
  fromNodeId: string;
}

export type ClusterClaim =
  | { admitted: true; replaces: ReadonlyArray<{ nodeId: string; listenerId: string }> }
  | { admitted: false; message: string };

/** What the control plane may ask every node (cluster mode): its views, as plain JSON values. */
export type ClusterQuestion =
  | { kind: 'routes'; filter: { path?: string; keyId?: string } }
  | { kind: 'links'; filter: { listenerId?: string; path?: string; keyId?: string } };

/** The answers of the other nodes to a question, and the nodes that did not answer in time. */
export interface ClusterAnswers {
  answers: Array<{ nodeId: string; answer: unknown }>;
  unanswered: string[];
}

/** What the relay tells the directory about its own listeners, and what it does when another node asks. */
export interface DirectoryHost {
  /** Another node's control plane asks for this node's views: plain JSON values. */
  answer(question: ClusterQuestion): unknown;
  /** Every listener this node holds now, for the renewal of their leases. */
  heldListeners(): Array<{ path: string; listenerId: string; state: 'active' | 'draining' }>;
  /** Another node took the path over, or this node's lease ran out: the listener must go. */
  closeListener(listenerId: string, reason: 'replaced' | 'lease_lost'): void;
  /** Another node holds a dialer for a listener of ours: tell the listener. */
  offer(offer: RemoteDialOffer): void;
}

export interface RouteDirectory {
  readonly nodeId: string;
  /**
   * Once the relay port listens: publishes the address at which the other
   * nodes reach it (host:port), then starts the lease renewal and the node's
   * inbox.
   */
  start(host: DirectoryHost, nodeAddress: string): Promise<void>;
  stop(): Promise<void>;
  /** Whether new listeners may be taken: false once the leases could not be renewed for half a lease. */
  readonly takesListeners: boolean;
  /** The route policy, cluster-wide: after the node's own admission said yes. */
  claim(input: { path: string; listenerId: string; keyId: string; policy: RoutePolicy; poolSize: number }): Promise<ClusterClaim>;
  release(path: string, listenerId: string): void;
  /** Active listeners of the path held by other nodes (none when the directory cannot answer). */
  listenersElsewhere(path: string): Promise<RemoteListener[]>;
  /** Sends the offer to the listener's node; false when no node took it. */
  offer(to: RemoteListener, offer: RemoteDialOffer): Promise<boolean>;
  /** This node holds a dialer with this id on the path, for at most ttlMs; resolves once recorded (or failed to be: never rejects). */
  dialWaits(path: string, id: string, ttlMs: number): Promise<void>;
  /**
   * One active listener of the path on another node, at random, with where
   * this node's dialer waits recorded as by dialWaits, in one round trip;
   * undefined when no other node listens on the path (or Redis cannot say).
   */
  pickElsewhere(path: string, id: string, ttlMs: number): Promise<RemoteListener | undefined>;
  /** The node where a dialer with this id waits on the path, when it is another node. */
  whereDialWaits(path: string, id: string): Promise<string | undefined>;
  /** Opens the hop to the dialer's node: its 101 read, and what came after it. */
  openHop(toNodeId: string, hop: HopRequest): Promise<{ socket: Socket; head: Buffer }>;
  /** Asks every other live node; each answers through its host, or is named as unanswered after timeoutMs. */
  askOthers(question: ClusterQuestion, timeoutMs: number): Promise<ClusterAnswers>;
  /** The hop request in these headers, when it is one a node of this cluster made for this node, for this path and id. */
  verifyHop(headers: Record<string, string | string[] | undefined>, path: string, id: string): HopRequest | undefined;
}

/** The header that makes a WebRoute request a node-to-node hop (lower case, as Node gives headers). */
export const HOP_HEADER = 'x-remoted-hop';

/** The Nest token under which cluster mode provides its directory; absent on a single node. */
export const ROUTE_DIRECTORY = Symbol('RouteDirectory');
