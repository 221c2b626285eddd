/**
 * One row per setting: where it lives in Config, its environment variable,
 * its command-line flag, and how a value is checked. The loader, the --help
 * text and the README's table all come from this list.
 */
import { ROUTE_POLICIES } from '../keys/route-policy';
import type { LegacyPeerQuirk, LogLevel } from './config';

export type FieldKind =
  /** `shape` when set: a value must match `shape.pattern`; `shape.says` tells the person who set it what is wanted. */
  | { type: 'string'; nonEmpty?: boolean; shape?: { pattern: RegExp; says: string } }
  /** A secret given in the configuration: refused below minLength characters (`why` says why), and never echoed. */
  | { type: 'secret'; what: string; minLength: number; why: string }
  | { type: 'int'; min: number; max: number }
  /** `true` or `false`: JSON booleans, or those words in the environment and flags. */
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] };

export interface ConfigField {
  /** Dotted path in Config, also the key path in the JSON file. */
  path: string;
  env: string;
  flag: string;
  kind: FieldKind;
  description: string;
}

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const LEGACY_PEER_QUIRKS: readonly LegacyPeerQuirk[] = ['auto', 'always', 'never'];

const MAX_INT = Number.MAX_SAFE_INTEGER;

/**
 * Keys are stored as unsalted SHA-256 digests, which only a long random key
 * makes safe against guessing offline; the generated ones have 64 characters.
 */
export const MIN_CONFIGURED_KEY_LENGTH = 32;
/** The cluster secret keys an HMAC-SHA256: 32 characters or more. */
export const MIN_CLUSTER_SECRET_LENGTH = 32;
const KEY_KIND: FieldKind = { type: 'secret', what: 'a key', minLength: MIN_CONFIGURED_KEY_LENGTH, why: 'keys are stored as unsalted SHA-256 digests, safe only for long random keys' };
const KEY_NOTE = `at least ${MIN_CONFIGURED_KEY_LENGTH} random characters: stored as an unsalted SHA-256 digest, safe only for long random keys`;

export const CONFIG_FIELDS: readonly ConfigField[] = [
  { path: 'host', env: 'REMOTED_HOST', flag: 'host', kind: { type: 'string', nonEmpty: true }, description: 'address the relay port binds' },
  { path: 'port', env: 'REMOTED_PORT', flag: 'port', kind: { type: 'int', min: 0, max: 65535 }, description: 'relay (data plane) port; 0 picks a free one' },
  { path: 'dataDir', env: 'REMOTED_DATA_DIR', flag: 'data-dir', kind: { type: 'string', nonEmpty: true }, description: 'directory of the key database (remoted.sqlite); made 0700 with its files 0600, and an existing one that group or others may read is logged as a warning' },
  { path: 'defaultTimeoutSeconds', env: 'REMOTED_DEFAULT_TIMEOUT', flag: 'default-timeout', kind: { type: 'int', min: 1, max: 86_400 }, description: 'seconds a dialer waits to be linked; least idle timeout of a link' },
  { path: 'serverKey', env: 'REMOTED_SERVER_KEY', flag: 'server-key', kind: KEY_KIND, description: `a server key to register at start; ${KEY_NOTE}` },
  { path: 'clientKey', env: 'REMOTED_CLIENT_KEY', flag: 'client-key', kind: KEY_KIND, description: `a client key to register at start; ${KEY_NOTE}` },
  { path: 'logLevel', env: 'REMOTED_LOG_LEVEL', flag: 'log-level', kind: { type: 'enum', values: LOG_LEVELS }, description: 'log level' },
  { path: 'listenerPingIntervalMs', env: 'REMOTED_LISTENER_PING_INTERVAL_MS', flag: 'listener-ping-interval-ms', kind: { type: 'int', min: 100, max: MAX_INT }, description: 'ms between pings of a listener; no pong by the next ping drops it' },
  { path: 'sweepIntervalMs', env: 'REMOTED_SWEEP_INTERVAL_MS', flag: 'sweep-interval-ms', kind: { type: 'int', min: 10, max: 60_000 }, description: 'ms between checks of dialer deadlines and idle links' },
  { path: 'legacyPeerDelayMs', env: 'REMOTED_LEGACY_PEER_DELAY_MS', flag: 'legacy-peer-delay-ms', kind: { type: 'int', min: 0, max: 5000 }, description: 'longest ms bytes wait after the 101 of a peer that needs it (see legacy-peer-quirk); released early by the first byte from that peer; 0 turns it off' },
  { path: 'legacyPeerQuirk', env: 'REMOTED_LEGACY_PEER_QUIRK', flag: 'legacy-peer-quirk', kind: { type: 'enum', values: LEGACY_PEER_QUIRKS }, description: 'which peers without early-data get that hold: auto (the original PHP SDK, recognised by its request headers), always, never' },
  { path: 'limits.maxHeaderBytes', env: 'REMOTED_MAX_HEADER_BYTES', flag: 'max-header-bytes', kind: { type: 'int', min: 1024, max: 1024 * 1024 }, description: 'request header bytes; more is answered 431' },
  { path: 'limits.headerTimeoutMs', env: 'REMOTED_HEADER_TIMEOUT_MS', flag: 'header-timeout-ms', kind: { type: 'int', min: 100, max: 600_000 }, description: 'ms for request headers to arrive before the connection is closed' },
  { path: 'limits.maxWaitingDialersPerRoute', env: 'REMOTED_MAX_WAITING_DIALERS_PER_ROUTE', flag: 'max-waiting-dialers-per-route', kind: { type: 'int', min: 1, max: 1_000_000 }, description: 'dialers waiting on one route; more are answered 503' },
  { path: 'limits.maxPreLinkBytes', env: 'REMOTED_MAX_PRE_LINK_BYTES', flag: 'max-pre-link-bytes', kind: { type: 'int', min: 0, max: 16 * 1024 * 1024 }, description: 'bytes a side may send with its request, before it is linked' },
  { path: 'limits.maxListenerMessageBytes', env: 'REMOTED_MAX_LISTENER_MESSAGE_BYTES', flag: 'max-listener-message-bytes', kind: { type: 'int', min: 125, max: 16 * 1024 * 1024 }, description: 'largest WebSocket message a listener may send' },
  { path: 'routes.policy', env: 'REMOTED_ROUTE_POLICY', flag: 'route-policy', kind: { type: 'enum', values: ROUTE_POLICIES }, description: 'what a second listener on a held path gets, for keys with no policy of their own: exclusive (409), takeover or pool' },
  { path: 'routes.poolSize', env: 'REMOTED_POOL_SIZE', flag: 'pool-size', kind: { type: 'int', min: 1, max: 10_000 }, description: 'most active listeners on one path under the pool policy, for keys with no pool size of their own' },
  { path: 'routes.poolDialbackDeadlineMs', env: 'REMOTED_POOL_DIALBACK_DEADLINE_MS', flag: 'pool-dialback-deadline-ms', kind: { type: 'int', min: 50, max: 600_000 }, description: 'ms a pool member has to dial back before the dial is offered to another member' },
  { path: 'routes.sparesPerListener', env: 'REMOTED_SPARES_PER_LISTENER', flag: 'spares-per-listener', kind: { type: 'int', min: 0, max: 10_000 }, description: 'spare dial-backs one listener may hold (extension); 0 grants none' },
  { path: 'routes.sparesPerRoute', env: 'REMOTED_SPARES_PER_ROUTE', flag: 'spares-per-route', kind: { type: 'int', min: 0, max: 100_000 }, description: 'spare dial-backs held on one path over all its listeners' },
  { path: 'routes.spareMaxAgeSeconds', env: 'REMOTED_SPARE_MAX_AGE_SECONDS', flag: 'spare-max-age-seconds', kind: { type: 'int', min: 1, max: 86_400 }, description: 'seconds before an unused spare is answered 504 and replaced' },
  { path: 'adminKey', env: 'REMOTED_ADMIN_KEY', flag: 'admin-key', kind: KEY_KIND, description: `an admin key (gRPC control plane) to register at start; ${KEY_NOTE}` },
  { path: 'grpc.host', env: 'REMOTED_GRPC_HOST', flag: 'grpc-host', kind: { type: 'string', nonEmpty: true }, description: 'address the gRPC control plane binds' },
  { path: 'grpc.port', env: 'REMOTED_GRPC_PORT', flag: 'grpc-port', kind: { type: 'int', min: 0, max: 65535 }, description: 'gRPC control plane port; 0 picks a free one' },
  { path: 'grpc.tlsCertFile', env: 'REMOTED_GRPC_TLS_CERT', flag: 'grpc-tls-cert', kind: { type: 'string', nonEmpty: true }, description: 'PEM certificate file: the control plane speaks TLS (with --grpc-tls-key)' },
  { path: 'grpc.tlsKeyFile', env: 'REMOTED_GRPC_TLS_KEY', flag: 'grpc-tls-key', kind: { type: 'string', nonEmpty: true }, description: 'PEM private key file of --grpc-tls-cert' },
  { path: 'limits.maxConnections', env: 'REMOTED_MAX_CONNECTIONS', flag: 'max-connections', kind: { type: 'int', min: 1, max: 10_000_000 }, description: 'sockets held at once (listeners, waiting dialers, link sides); more are answered 503' },
  { path: 'limits.listenBacklog', env: 'REMOTED_LISTEN_BACKLOG', flag: 'listen-backlog', kind: { type: 'int', min: 1, max: 65_535 }, description: 'connections the kernel queues on the relay port before they are accepted (capped by net.core.somaxconn): room for listeners reconnecting at once after a restart' },
  { path: 'limits.maxRoutes', env: 'REMOTED_MAX_ROUTES', flag: 'max-routes', kind: { type: 'int', min: 1, max: 10_000_000 }, description: 'routes (listeners) open at once; more are answered 503' },
  { path: 'limits.maxLinksPerKey', env: 'REMOTED_MAX_LINKS_PER_KEY', flag: 'max-links-per-key', kind: { type: 'int', min: 1, max: 10_000_000 }, description: 'links open at once per client key, for keys with no cap of their own; more dials are answered 503' },
  { path: 'limits.maxRoutesPerKey', env: 'REMOTED_MAX_ROUTES_PER_KEY', flag: 'max-routes-per-key', kind: { type: 'int', min: 1, max: 10_000_000 }, description: 'listeners open at once per server key, for keys with no cap of their own; more are answered 503' },
  { path: 'limits.maxWaitingDialersPerKey', env: 'REMOTED_MAX_WAITING_DIALERS_PER_KEY', flag: 'max-waiting-dialers-per-key', kind: { type: 'int', min: 1, max: 10_000_000 }, description: 'dialers of one client key waiting at once, for keys with no cap of their own; more are answered 503' },
  { path: 'limits.maxSparesPerKey', env: 'REMOTED_MAX_SPARES_PER_KEY', flag: 'max-spares-per-key', kind: { type: 'int', min: 0, max: 10_000_000 }, description: 'spare dial-backs held at once per server key, for keys with no cap of their own; more are answered 503' },
  { path: 'limits.authFailureLimit', env: 'REMOTED_AUTH_FAILURE_LIMIT', flag: 'auth-failure-limit', kind: { type: 'int', min: 1, max: 1_000_000 }, description: 'failed authentications from one address per window before it is answered 429' },
  { path: 'limits.authFailureWindowMs', env: 'REMOTED_AUTH_FAILURE_WINDOW_MS', flag: 'auth-failure-window-ms', kind: { type: 'int', min: 100, max: 86_400_000 }, description: 'ms window of --auth-failure-limit; a throttled address waits for its end' },
  { path: 'limits.authThrottleMaxAddresses', env: 'REMOTED_AUTH_THROTTLE_MAX_ADDRESSES', flag: 'auth-throttle-max-addresses', kind: { type: 'int', min: 1, max: 10_000_000 }, description: 'addresses (IPv4, or IPv6 /64) tracked for failed authentications; the oldest not throttled are forgotten first' },
  { path: 'shutdownGraceMs', env: 'REMOTED_SHUTDOWN_GRACE_MS', flag: 'shutdown-grace-ms', kind: { type: 'int', min: 0, max: 86_400_000 }, description: 'ms linked pairs get to finish at SIGTERM/SIGINT before they are closed' },
  { path: 'spliceWorkers', env: 'REMOTED_SPLICE_WORKERS', flag: 'splice-workers', kind: { type: 'int', min: 0, max: 1 }, description: '1: busy links of plain TCP sockets move to a lean worker process, where relaying costs less CPU; 0: every link stays in the relay process' },
  { path: 'tls.certFile', env: 'REMOTED_TLS_CERT', flag: 'tls-cert', kind: { type: 'string', nonEmpty: true }, description: 'PEM certificate file: the relay port speaks TLS (with --tls-key); reloaded on SIGHUP and on file change' },
  { path: 'tls.keyFile', env: 'REMOTED_TLS_KEY', flag: 'tls-key', kind: { type: 'string', nonEmpty: true }, description: 'PEM private key file of --tls-cert' },
  { path: 'trustedProxies', env: 'REMOTED_TRUSTED_PROXIES', flag: 'trusted-proxies', kind: { type: 'string', nonEmpty: true }, description: 'comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For / X-Real-IP are believed' },
  { path: 'proxyProtocol', env: 'REMOTED_PROXY_PROTOCOL', flag: 'proxy-protocol', kind: { type: 'boolean' }, description: 'true: every connection to the relay port starts with a PROXY v1/v2 header from a --trusted-proxies peer; others are closed' },
  { path: 'metrics.host', env: 'REMOTED_METRICS_HOST', flag: 'metrics-host', kind: { type: 'string', nonEmpty: true }, description: 'address the metrics port binds' },
  { path: 'metrics.port', env: 'REMOTED_METRICS_PORT', flag: 'metrics-port', kind: { type: 'int', min: 0, max: 65535 }, description: 'Prometheus /metrics on its own port (off unless set; 0 picks a free one)' },
  { path: 'metrics.token', env: 'REMOTED_METRICS_TOKEN', flag: 'metrics-token', kind: { type: 'string', nonEmpty: true }, description: '/metrics on the relay port too, for requests with Authorization: Bearer <token>' },
  { path: 'status.host', env: 'REMOTED_STATUS_HOST', flag: 'status-host', kind: { type: 'string', nonEmpty: true }, description: 'address the status page binds (keep it on loopback: reach it through an SSH tunnel)' },
  { path: 'status.port', env: 'REMOTED_STATUS_PORT', flag: 'status-port', kind: { type: 'int', min: 0, max: 65535 }, description: 'the live status page (admin key login) on its own port; 0 turns it off' },
  { path: 'cluster.redisUrl', env: 'REMOTED_REDIS_URL', flag: 'redis-url', kind: { type: 'string', shape: { pattern: /^rediss?:\/\/\S+$/, says: 'a redis:// or rediss:// URL, e.g. redis://:password@10.0.0.5:6379/0' } }, description: 'redis:// or rediss:// URL of the Redis the nodes of a cluster share: turns cluster mode on (keys and routes in Redis; docs/cluster.md); unset, one node keeps its keys in SQLite' },
  { path: 'cluster.nodeId', env: 'REMOTED_NODE_ID', flag: 'node-id', kind: { type: 'string', shape: { pattern: /^[A-Za-z0-9._-]{1,64}$/, says: '1 to 64 letters, digits, dots, underscores or dashes' } }, description: 'this node\'s name in the cluster, its logs and its metrics (letters, digits, . _ -; at most 64); generated and logged at start when unset' },
  { path: 'cluster.nodeAddress', env: 'REMOTED_NODE_ADDRESS', flag: 'node-address', kind: { type: 'string', shape: { pattern: /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):\d{1,5}$/, says: 'host:port (an IPv6 host in brackets), e.g. 10.0.0.11:37791' } }, description: 'host:port at which the other nodes of a cluster reach this node\'s relay port for the node-to-node hop; unset: --host and --port (a wildcard host needs it set)' },
  { path: 'cluster.leaseMs', env: 'REMOTED_ROUTE_LEASE_MS', flag: 'route-lease-ms', kind: { type: 'int', min: 300, max: 600_000 }, description: 'cluster mode: ms a listener\'s route lease lasts unrenewed (renewed every third of it): a dead node\'s paths are free after this; a node cut off from Redis takes no new listener after half of it' },
  { path: 'cluster.secret', env: 'REMOTED_CLUSTER_SECRET', flag: 'cluster-secret', kind: { type: 'secret', what: 'a secret', minLength: MIN_CLUSTER_SECRET_LENGTH, why: 'it keys the HMAC by which the nodes know each other' }, description: `shared by every node of a cluster, required with --redis-url (at least ${MIN_CLUSTER_SECRET_LENGTH} characters): authenticates the nodes to each other on the node-to-node hop` },
  { path: 'grpc.maxConnections', env: 'REMOTED_GRPC_MAX_CONNECTIONS', flag: 'grpc-max-connections', kind: { type: 'int', min: 1, max: 1_000_000 }, description: 'connections the control plane holds at once; more are closed as they arrive' },
  { path: 'grpc.maxConcurrentStreams', env: 'REMOTED_GRPC_MAX_CONCURRENT_STREAMS', flag: 'grpc-max-concurrent-streams', kind: { type: 'int', min: 1, max: 1_000_000 }, description: 'calls open at once on one control-plane connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS)' },
  { path: 'grpc.maxUnauthenticatedCalls', env: 'REMOTED_GRPC_MAX_UNAUTHENTICATED_CALLS', flag: 'grpc-max-unauthenticated-calls', kind: { type: 'int', min: 1, max: 1_000_000 }, description: 'reflection and health calls open at once over all connections; more are answered RESOURCE_EXHAUSTED' },
  { path: 'grpc.maxConnectionIdleMs', env: 'REMOTED_GRPC_MAX_CONNECTION_IDLE_MS', flag: 'grpc-max-connection-idle-ms', kind: { type: 'int', min: 1000, max: 86_400_000 }, description: 'ms a control-plane connection with no call open is kept before it is closed (GOAWAY)' },
];
