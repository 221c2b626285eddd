/** @remoted/sdk: listen and dial through a remoted relay (see README.md). */
export { listen, RemotedServer, MAX_SPARES } from './remoted-server';
export { parseNotify } from './relay-message';
export type { ListenOptions, IncomingDial } from './listen-options';
export type {
  RemotedAddress,
  RemotedServerEvents,
  RouteOpenEvent,
  RouteLostEvent,
  RouteRetryEvent,
  DialBackErrorEvent,
  DialRefusedEvent,
  DrainEvent,
} from './listener-events';
export { attach } from './attach';
export { dial, dialChain, dialHops, DEFAULT_DIAL_TIMEOUT_MS } from './dial';
export type { DialOptions, DialResult } from './dial';
export { dialerAddressOf } from './dialer-address';
export { proxyHeader, buildProxyHeader, parseDialerAddress, PROXY_PROTOCOL_VERSIONS, PROXY_V2_SIGNATURE } from './proxy-protocol';
export type { ProxyProtocolVersion, ProxyEndpoint } from './proxy-protocol';
export { RemotedAgent, RemotedHttpsAgent } from './agent';
export { backoffCapMs, backoffDelayMs, DEFAULT_RECONNECT } from './backoff';
export type { ReconnectOptions } from './backoff';
export type { RelayTlsOptions } from './relay-transport';
export { parseRemotedUrl, parseListenUrl, parseDialString, redactUrl, urlCarriesKey, RemotedUrlError } from './urls';
export type { RemotedUrl, DialString, UrlKeyOptions, RemotedScheme, ListenScheme, DialScheme } from './urls';
export { RemotedError, ERROR_STATUS, DEFAULT_PORT } from './protocol';
export type { ErrorCode, NotifyMessage } from './protocol';
export * from './admin';
