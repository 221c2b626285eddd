/** The relay's typed configuration. Every knob has a default here. */
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
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Seconds; a side's effective timeout is the larger of this and its WebRoute-Timeout. */
  defaultTimeoutSeconds: number;
  serverKey?: string;
  clientKey?: string;
  logLevel: LogLevel;
  /** How often listeners are pinged; one missed pong and the listener is dropped. */
  listenerPingIntervalMs: number;
  /** How often waiting dialers and idle links are checked against their deadlines. */
  sweepIntervalMs: number;
  limits: RelayLimits;
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxHeaderBytes: 16 * 1024,
  headerTimeoutMs: 10_000,
  maxWaitingDialersPerRoute: 1024,
  maxPreLinkBytes: 64 * 1024,
  maxListenerMessageBytes: 4096,
};

export const DEFAULT_CONFIG: Config = {
  host: '127.0.0.1',
  port: 37791,
  dataDir: './data',
  defaultTimeoutSeconds: 60,
  logLevel: 'info',
  listenerPingIntervalMs: 30_000,
  sweepIntervalMs: 500,
  limits: DEFAULT_LIMITS,
};
