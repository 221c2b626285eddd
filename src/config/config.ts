/** The relay's typed configuration. Every knob has a default here. */
import type { RoutePolicy } from '../keys/route-policy';

/** Which peers without early-data have bytes held after their 101 (src/relay/legacy-peer.ts). */
export type LegacyPeerQuirk = 'auto' | 'always' | 'never';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface RelayLimits {
  /** Request header bytes before the relay answers 431. */
  maxHeaderBytes: number;
  /** Time for a request's headers to arrive before the connection is closed. */
  headerTimeoutMs: number;
  /** Dialers waiting for a dial-back on one route; past this, 503 over_capacity. */
  maxWaitingDialersPerRoute: number;
  /** Bytes a side may send before it is linked (what came with its headers). */
  maxPreLinkBytes: number;
  /** Largest WebSocket message a listener may send (listeners have little to say). */
  maxListenerMessageBytes: number;
  /** Sockets the relay holds at once (listeners, waiting dialers, both sides of links); past this, 503. */
  maxConnections: number;
  /**
   * Connections the kernel queues on the relay port before the relay accepts
   * them (listen(2) backlog, capped by net.core.somaxconn). Node's 511 is too
   * few for a herd of listeners and their spares reconnecting after a restart:
   * past it the kernel drops SYNs and each peer waits a 1 s retransmit.
   */
  listenBacklog: number;
  /** Routes (listeners) open at once; past this, 503. */
  maxRoutes: number;
  /** Links open at once per client key; past this, a dial is answered 503. Per-key caps: keys may set their own. */
  maxLinksPerKey: number;
  /** Listeners open at once per server key; past this, 503. */
  maxRoutesPerKey: number;
  /** Dialers of one client key waiting for a dial-back at once; past this, 503. */
  maxWaitingDialersPerKey: number;
  /** Spare dial-backs held at once per server key; past this, a spare is answered 503. */
  maxSparesPerKey: number;
  /** Failed authentications from one address within the window before it is answered 429. */
  authFailureLimit: number;
  authFailureWindowMs: number;
  /** Sources (IPv4 addresses, IPv6 /64s) tracked for failed authentications: bounds the table's memory. */
  authThrottleMaxAddresses: number;
}

/** Several listeners per path, drain and spares (docs/protocol.md, extensions). */
export interface RoutesConfig {
  /** The policy of a server key that has none of its own. */
  policy: RoutePolicy;
  /** Most active listeners on one path under the pool policy, for keys with no pool size of their own. */
  poolSize: number;
  /** A pool member that has not dialed back by then sees the dial offered to another member. */
  poolDialbackDeadlineMs: number;
  /** Most spare dial-backs one listener may hold; 0 grants no spares. */
  sparesPerListener: number;
  /** Most spare dial-backs held on one path, over all its listeners. */
  sparesPerRoute: number;
  /** A spare older than this is answered 504 and replaced by its listener. */
  spareMaxAgeSeconds: number;
}

/** The gRPC control plane's own port; TLS when both files are given. */
export interface GrpcConfig {
  host: string;
  port: number;
  /** PEM certificate chain file; with tlsKeyFile, the control plane speaks TLS. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Connections held at once on the control port; more are closed as they are accepted. */
  maxConnections: number;
  /** Calls open at once on one connection, advertised in HTTP/2 SETTINGS: a client queues the rest. */
  maxConcurrentStreams: number;
  /**
   * Calls that need no key (reflection, health) open at once, over every
   * connection: a Health/Watch or reflection stream may stay open for ever,
   * and nothing else bounds what strangers hold.
   */
  maxUnauthenticatedCalls: number;
  /** A connection with no call open this long is closed, so idle connections do not hold the slots of maxConnections. */
  maxConnectionIdleMs: number;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Seconds; a side's effective timeout is the larger of this and its WebRoute-Timeout. */
  defaultTimeoutSeconds: number;
  serverKey?: string;
  clientKey?: string;
  /** An admin key (control plane) to register at start. */
  adminKey?: string;
  logLevel: LogLevel;
  /** How often listeners are pinged; one missed pong and the listener is dropped. */
  listenerPingIntervalMs: number;
  /** How often waiting dialers and idle links are checked against their deadlines. */
  sweepIntervalMs: number;
  /**
   * Ms between a peer's 101 and the first relayed byte to it, for a peer that
   * does not declare `X-Remoted-Features: early-data` (the original SDKs drop
   * bytes that arrive in the same read as the 101).
   */
  legacyPeerDelayMs: number;
  /** Which peers get that hold: `auto` only the original's PHP SDK (src/relay/legacy-peer.ts). */
  legacyPeerQuirk: LegacyPeerQuirk;
  limits: RelayLimits;
  routes: RoutesConfig;
  grpc: GrpcConfig;
  /** Ms linked pairs get to finish at shutdown before they are closed. */
  shutdownGraceMs: number;
  /** 1: busy links of plain TCP sockets move to a splice worker process (src/relay/links/offload/); 0: every link stays in the relay. */
  spliceWorkers: number;
  /** TLS on the data port when both files are given; reloaded on SIGHUP and when either file changes. */
  tls: TlsFiles;
  /** Comma-separated addresses / CIDRs whose X-Forwarded-For / X-Real-IP are believed. */
  trustedProxies?: string;
  /**
   * Every connection to the relay port begins with a PROXY protocol header
   * (v1 or v2) from a trusted proxy, naming the client; other peers are refused.
   */
  proxyProtocol: boolean;
  metrics: MetricsConfig;
  status: StatusConfig;
  cluster: ClusterConfig;
}

/**
 * Cluster mode (docs/cluster.md): several relay nodes sharing keys through
 * Redis. Off while redisUrl is unset: one node, keys in its SQLite file, no
 * Redis needed.
 */
export interface ClusterConfig {
  /** redis:// or rediss:// URL; setting it turns cluster mode on. */
  redisUrl?: string;
  /** This node's name in logs, metrics and the cluster; generated at start when unset. */
  nodeId?: string;
  /** Shared by every node: authenticates the nodes to each other on the node-to-node hop. */
  secret?: string;
  /** host:port at which the other nodes reach this node's relay port; unset: the relay's host and port. */
  nodeAddress?: string;
  /** How long a listener's route lease lasts unrenewed: a dead node's paths are free after it. */
  leaseMs: number;
}

export interface TlsFiles {
  certFile?: string;
  keyFile?: string;
}

/** Prometheus metrics: on their own port when `port` is set, on the data port behind `token` when that is set. */
export interface MetricsConfig {
  host: string;
  port?: number;
  token?: string;
}

/** The status page (src/status/): its own admin HTTP port, never the relay port. */
export interface StatusConfig {
  host: string;
  /** 0 turns the page off (no server, no timer, no subscription). */
  port: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxHeaderBytes: 16 * 1024,
  headerTimeoutMs: 10_000,
  maxWaitingDialersPerRoute: 1024,
  maxPreLinkBytes: 64 * 1024,
  maxListenerMessageBytes: 4096,
  maxConnections: 60_000,
  listenBacklog: 4096,
  maxRoutes: 10_000,
  maxLinksPerKey: 10_000,
  maxRoutesPerKey: 1024,
  maxWaitingDialersPerKey: 1024,
  maxSparesPerKey: 256,
  authFailureLimit: 10,
  authFailureWindowMs: 60_000,
  authThrottleMaxAddresses: 10_000,
};

export const DEFAULT_CONFIG: Config = {
  host: '127.0.0.1',
  port: 37791,
  dataDir: './data',
  defaultTimeoutSeconds: 60,
  logLevel: 'info',
  listenerPingIntervalMs: 30_000,
  sweepIntervalMs: 500,
  legacyPeerDelayMs: 50,
  legacyPeerQuirk: 'auto',
  limits: DEFAULT_LIMITS,
  routes: { policy: 'exclusive', poolSize: 8, poolDialbackDeadlineMs: 2000, sparesPerListener: 16, sparesPerRoute: 64, spareMaxAgeSeconds: 120 },
  grpc: { host: '127.0.0.1', port: 37792, maxConnections: 256, maxConcurrentStreams: 100, maxUnauthenticatedCalls: 64, maxConnectionIdleMs: 60_000 },
  shutdownGraceMs: 10_000,
  spliceWorkers: 1,
  tls: {},
  proxyProtocol: false,
  metrics: { host: '127.0.0.1' },
  status: { host: '127.0.0.1', port: 37793 },
  cluster: { leaseMs: 10_000 },
};
