/** Opens the byte stream a WebRoute request goes over: TCP or TLS to the relay, or (chained) through an earlier link. */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { RemotedUrl } from './urls';

/** TLS options for `rwrs`/`rwss`; where to connect comes from the URL. */
export type RelayTlsOptions = Omit<ConnectionOptions, 'host' | 'port' | 'socket' | 'path'>;

/**
 * Starts a connection to the relay of `url`, over `through` when given (a
 * link made by an earlier hop). The caller waits with `transportReady`.
 */
export function openTransport(url: RemotedUrl, tls: RelayTlsOptions | undefined, through?: Socket): Socket {
  if (!url.secure) {
    if (through) return through;
    // A link passes half-close on (docs/protocol.md, section 4): a FIN from the far side must not end ours.
    const socket = netConnect({ host: url.host, port: url.port, allowHalfOpen: true });
    socket.setNoDelay(true);
    return socket;
  }
  // `host` also names the certificate to check when the TLS runs over an earlier link;
  // tls.connect derives the SNI name from it unless it is an IP address.
  const options: ConnectionOptions & { allowHalfOpen: boolean } = { allowHalfOpen: true, ...tls, host: url.host };
  const socket = through ? tlsConnect({ ...options, socket: through }) : tlsConnect({ ...options, port: url.port });
  if (!through) socket.setNoDelay(true);
  return socket;
}

/** Resolves when the transport can carry the request: connected, or TLS-negotiated. */
export function transportReady(socket: Socket, url: RemotedUrl, through?: Socket): Promise<void> {
  const event = url.secure ? 'secureConnect' : 'connect';
  if (!url.secure && through) return Promise.resolve();
  if (!url.secure && !socket.connecting && !socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      socket.off(event, onReady);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    // A socket destroyed by a deadline closes without an error.
    const onClose = (): void => onError(new Error('The connection to the relay closed while connecting.'));
    socket.once(event, onReady);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
