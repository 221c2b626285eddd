/** @remoted/sdk: listen and dial through a remoted relay (see README.md). */
export { listen, RemotedServer, MAX_SPARES } from './listen/remoted-server';
export { parseNotify } from './wire/listener-frames';
export type { ListenOptions, IncomingDial } from './listen/listen-options';
export type {
  RemotedAddress,
  RemotedServerEvents,
  RouteOpenEvent,
  RouteLostEvent,
  RouteRetryEvent,
  DialBackErrorEvent,
  DialRefusedEvent,
  DrainEvent,
} from './listen/listener-events';
export { attach } from './listen/attach';
export { dial, dialChain, dialHops, DEFAULT_DIAL_TIMEOUT_MS } from './dial/dial';
export type { DialOptions, DialResult } from './dial/dial';
export { dialerAddressOf } from './listen/dialer-address';
export { proxyHeader, buildProxyHeader, parseDialerAddress, PROXY_PROTOCOL_VERSIONS, PROXY_V2_SIGNATURE } from './listen/proxy-protocol';
export type { ProxyProtocolVersion, ProxyEndpoint } from './listen/proxy-protocol';
export { RemotedAgent, RemotedHttpsAgent } from './dial/agent';
export { backoffCapMs, backoffDelayMs, DEFAULT_RECONNECT } from './listen/backoff';
export type { ReconnectOptions } from './listen/backoff';
export type { RelayTlsOptions } from './dial/webroute-client';
export { parseRemotedUrl, parseListenUrl, parseDialString, redactUrl, urlCarriesKey, RemotedUrlError } from './wire/urls';
export type { RemotedUrl, DialString, UrlKeyOptions, RemotedScheme, ListenScheme, DialScheme } from './wire/urls';
export { RemotedError, ERROR_STATUS, DEFAULT_PORT } from './protocol';
export type { ErrorCode, NotifyMessage } from './protocol';
export * from './admin';
