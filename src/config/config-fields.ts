/**
 * One row per setting: where it lives in Config, its environment variable,
 * its command-line flag, and how a value is checked. The loader, the --help
 * text and the README's table all come from this list.
 */
import type { LogLevel } from './config';

export type FieldKind =
  | { type: 'string'; nonEmpty?: boolean }
  | { type: 'int'; min: number; max: number }
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

const MAX_INT = Number.MAX_SAFE_INTEGER;

export const CONFIG_FIELDS: readonly ConfigField[] = [
  { path: 'host', env: 'REMOTED_HOST', flag: 'host', kind: { type: 'string', nonEmpty: true }, description: 'address the relay port binds' },
  { path: 'port', env: 'REMOTED_PORT', flag: 'port', kind: { type: 'int', min: 0, max: 65535 }, description: 'relay (data plane) port; 0 picks a free one' },
  { path: 'dataDir', env: 'REMOTED_DATA_DIR', flag: 'data-dir', kind: { type: 'string', nonEmpty: true }, description: 'directory of the key database' },
  { path: 'defaultTimeoutSeconds', env: 'REMOTED_DEFAULT_TIMEOUT', flag: 'default-timeout', kind: { type: 'int', min: 1, max: 86_400 }, description: 'seconds a dialer waits to be linked; least idle timeout of a link' },
  { path: 'serverKey', env: 'REMOTED_SERVER_KEY', flag: 'server-key', kind: { type: 'string', nonEmpty: true }, description: 'a server key to register at start' },
  { path: 'clientKey', env: 'REMOTED_CLIENT_KEY', flag: 'client-key', kind: { type: 'string', nonEmpty: true }, description: 'a client key to register at start' },
  { path: 'logLevel', env: 'REMOTED_LOG_LEVEL', flag: 'log-level', kind: { type: 'enum', values: LOG_LEVELS }, description: 'log level' },
  { path: 'listenerPingIntervalMs', env: 'REMOTED_LISTENER_PING_INTERVAL_MS', flag: 'listener-ping-interval-ms', kind: { type: 'int', min: 100, max: MAX_INT }, description: 'ms between pings of a listener; no pong by the next ping drops it' },
  { path: 'sweepIntervalMs', env: 'REMOTED_SWEEP_INTERVAL_MS', flag: 'sweep-interval-ms', kind: { type: 'int', min: 10, max: 60_000 }, description: 'ms between checks of dialer deadlines and idle links' },
  { path: 'limits.maxHeaderBytes', env: 'REMOTED_MAX_HEADER_BYTES', flag: 'max-header-bytes', kind: { type: 'int', min: 1024, max: 1024 * 1024 }, description: 'request header bytes; more is answered 431' },
  { path: 'limits.headerTimeoutMs', env: 'REMOTED_HEADER_TIMEOUT_MS', flag: 'header-timeout-ms', kind: { type: 'int', min: 100, max: 600_000 }, description: 'ms for request headers to arrive before the connection is closed' },
  { path: 'limits.maxWaitingDialersPerRoute', env: 'REMOTED_MAX_WAITING_DIALERS_PER_ROUTE', flag: 'max-waiting-dialers-per-route', kind: { type: 'int', min: 1, max: 1_000_000 }, description: 'dialers waiting on one route; more are answered 503' },
  { path: 'limits.maxPreLinkBytes', env: 'REMOTED_MAX_PRE_LINK_BYTES', flag: 'max-pre-link-bytes', kind: { type: 'int', min: 0, max: 16 * 1024 * 1024 }, description: 'bytes a side may send with its request, before it is linked' },
  { path: 'limits.maxListenerMessageBytes', env: 'REMOTED_MAX_LISTENER_MESSAGE_BYTES', flag: 'max-listener-message-bytes', kind: { type: 'int', min: 125, max: 16 * 1024 * 1024 }, description: 'largest WebSocket message a listener may send' },
];
