/**
 * One exposed route: a RemotedServer whose every link becomes a connection to
 * a local TCP service, made before the dial-back, so that a dial the service
 * cannot take is refused (the dialer gets 502 destination_unreachable from a
 * relay that grants `refuse`). Used by `expose` and by `expose --config` for
 * each route of its file.
 */
import { connect, Socket } from 'node:net';
import { dialerAddressOf } from '../listen/dialer-address';
import { type ProxyProtocolVersion, proxyHeader } from '../listen/proxy-protocol';
import { RemotedServer } from '../listen/remoted-server';
import type { CliLogger } from './cli-logger';
import { formatHostPort, type HostPort } from './host-port';
import { splice } from './splice';

/** A local service that accepts no connection in this time is treated as down (the dial is refused). */
const LOCAL_CONNECT_TIMEOUT_MS = 10_000;

export interface ExposedRouteOptions {
  /** The server key when the URL carries none (key-source.ts). */
  key?: string;
  to: HostPort;
  spares: number | 'auto';
  proxyProtocol?: ProxyProtocolVersion;
  maxRetryDelayMs: number;
  /** Put before each log line of this route (a routes file names its routes); '' for a lone route. */
  logPrefix: string;
}

/** The server, wired: links spliced to `to`, refusals and route changes logged. Not listening yet. */
export function exposedServer(options: ExposedRouteOptions, log: CliLogger): RemotedServer {
  const { to, proxyProtocol, logPrefix } = options;
  const server = new RemotedServer({
    key: options.key,
    reconnect: { maxDelayMs: options.maxRetryDelayMs },
    spares: options.spares,
    openTarget: () => connectLocal(to),
  });
  let links = 0;
  server.on('connection', (link, local) => {
    const label = `${logPrefix}link #${++links} from ${dialerAddressOf(link) ?? '?'}`;
    // openTarget always gives a socket; anything else would be a bug, not a dial to serve.
    if (!(local instanceof Socket)) return void link.destroy();
    log.debug(`${label} open to ${formatHostPort(to)}`);
    if (proxyProtocol) {
      const destination = local.remoteAddress && local.remotePort !== undefined ? { address: local.remoteAddress, port: local.remotePort } : undefined;
      local.write(proxyHeader(link, destination, proxyProtocol));
    }
    splice(link, local, log, label);
  });
  server.on('dial:refused', (e) => {
    const cause = e.error.cause instanceof Error ? e.error.cause.message : e.error.message;
    log.warn(`${logPrefix}refused the dial from ${e.dialerAddress || '?'}: cannot reach ${formatHostPort(to)}: ${cause}${e.told ? '' : ' (link closed)'}`);
  });
  const exposing = `${formatHostPort(to)}${proxyProtocol ? ` with PROXY protocol ${proxyProtocol}` : ''}`;
  server.on('route:open', (e) =>
    log.info(`${e.reconnected ? 'listening again' : 'listening'} on ${e.url}, exposing ${exposing}${e.spares > 0 ? `, ${e.spares} spares` : ''}`),
  );
  server.on('route:lost', (e) => log.warn(`${logPrefix}lost the route ${e.url} (${e.code}${e.reason ? ` ${e.reason}` : ''})`));
  server.on('route:retry', (e) => log.info(`${logPrefix}reconnect attempt ${e.attempt} in ${e.delayMs} ms${e.error ? ` (${e.error.message})` : ''}`));
  server.on('dialback:error', (e) => log.warn(`${logPrefix}dial-back for ${e.dialerAddress} failed: ${e.error.message}`));
  server.on('drain', (e) => {
    if (e.by === 'operator') log.info(`${logPrefix}drained by the relay's operator: no new links, ${server.connectionCount} open`);
  });
  return server;
}

/**
 * A connection to the local service, made before the dial-back. It rejects
 * with a message for the dialer (no local address or port in it: the relay
 * passes it on) and the system error as its cause, for our own log.
 */
function connectLocal(target: HostPort): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const local = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    local.setNoDelay(true);
    const fail = (err: Error & { code?: string }, message: string): void => {
      clearTimeout(timer);
      local.destroy();
      reject(new Error(message, { cause: err }));
    };
    const timer = setTimeout(
      () => fail(new Error(`no answer within ${LOCAL_CONNECT_TIMEOUT_MS} ms`), 'the local service did not accept the connection in time'),
      LOCAL_CONNECT_TIMEOUT_MS,
    );
    const onError = (err: Error & { code?: string }): void => fail(err, `the local service is unreachable (${err.code ?? 'error'})`);
    local.once('error', onError);
    local.once('connect', () => {
      clearTimeout(timer);
      local.off('error', onError);
      // Until the link is spliced (or dropped), an error only ends this socket; the splice logs later ones.
      local.once('error', () => local.destroy());
      resolve(local);
    });
  });
}
