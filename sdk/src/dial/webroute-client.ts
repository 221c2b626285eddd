/**
 * The client side of a WebRoute v1 link (docs/protocol.md, sections 2 to 4),
 * used by the dialer, the listener's dial-back and its spares alike: open the
 * byte stream to the relay (TCP, TLS, or through an earlier link), write the
 * request, read the answer, check the 101, and leave the socket as if nothing
 * had been read from it, with any bytes that came after the 101 back in front.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import {
  RemotedError,
  FEATURE_EARLY_DATA,
  WEBROUTE_UPGRADE,
  WEBROUTE_VERSION,
  HEADER_WEBROUTE_ACCEPT,
  WIRE_HEADER_FEATURES,
  WIRE_HEADER_API_KEY,
  WIRE_HEADER_SPARE,
  WIRE_HEADER_WEBROUTE_ID,
  WIRE_HEADER_WEBROUTE_TIMEOUT,
  WIRE_HEADER_WEBROUTE_VERSION,
  webRouteAccept,
} from '../wire/protocol';
import { refusalError } from './relay-refusal';
import { MAX_ERROR_BODY_BYTES } from '../wire/error-body';
import type { RemotedUrl } from '../wire/urls';

/** TLS options for `rwrs`/`rwss`; where to connect comes from the URL. */
export type RelayTlsOptions = Omit<ConnectionOptions, 'host' | 'port' | 'socket' | 'path'>;

/**
 * Starts a connection to the relay of `url`, over `through` when given (a
 * link made by an earlier hop). openWebRoute waits with `transportReady`.
 */
function openTransport(url: RemotedUrl, tls: RelayTlsOptions | undefined, through?: Socket): Socket {
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
function transportReady(socket: Socket, url: RemotedUrl, through?: Socket): Promise<void> {
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

/** A relay's answer head is a few hundred bytes; past this it is not a relay. */
export const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;

export interface WebRouteRequest {
  url: RemotedUrl;
  id: string;
  /** Sent as WebRoute-Timeout (seconds) when given. */
  timeoutSeconds?: number;
  /** Extension: makes the request a spare of this listener id (X-Remoted-Spare), held by the relay until a dial comes. */
  spareOf?: string;
  /** Bytes written right behind the request head, in the same write: the relay delivers them first once linked. */
  earlyData?: Buffer;
}

/** What the relay's 101 said, for the callers that read extension headers (a spare's dialer address). */
export interface WebRouteAnswer {
  /** Lower-case names; repeated headers joined with ", ". */
  headers: ReadonlyMap<string, string>;
}

interface ResponseHead {
  status: number;
  headers: Map<string, string>;
  length: number;
}

export interface OpenWebRouteOptions {
  tls: RelayTlsOptions | undefined;
  /** An earlier hop's link to send the request through (a chained dial). */
  through?: Socket;
  /** Sees the socket as soon as it exists: for a deadline, or an owner that may have to destroy it. */
  onSocket?: (socket: Socket) => void;
}

/**
 * The whole client side of one WebRoute: the transport to the relay, the
 * request, the 101. Resolves to the socket, ready for the link's bytes, and
 * the 101's headers; rejects as upgradeToWebRoute does.
 */
export async function openWebRoute(request: WebRouteRequest, options: OpenWebRouteOptions): Promise<{ socket: Socket; answer: WebRouteAnswer }> {
  const socket = openTransport(request.url, options.tls, options.through);
  options.onSocket?.(socket);
  await transportReady(socket, request.url, options.through);
  const answer = await upgradeToWebRoute(socket, request);
  return { socket, answer };
}

export function webRouteRequestText({ url, id, timeoutSeconds, spareOf }: WebRouteRequest): string {
  for (const value of [url.key, url.path, url.hostHeader, id, spareOf ?? '']) {
    // A CR or LF would let a URL write headers of its own.
    if (/[\r\n]/.test(value)) throw new RemotedError('protocol_error', 'Line breaks are not allowed in a key, path or id.');
  }
  let text =
    `GET ${url.path} HTTP/1.1\r\n` +
    `Host: ${url.hostHeader}\r\n` +
    'Connection: keep-alive, Upgrade\r\n' +
    `Upgrade: ${WEBROUTE_UPGRADE}\r\n` +
    `${WIRE_HEADER_WEBROUTE_VERSION}: ${WEBROUTE_VERSION}\r\n` +
    `${WIRE_HEADER_WEBROUTE_ID}: ${id}\r\n`;
  if (timeoutSeconds !== undefined) text += `${WIRE_HEADER_WEBROUTE_TIMEOUT}: ${Math.ceil(timeoutSeconds)}\r\n`;
  if (spareOf !== undefined) text += `${WIRE_HEADER_SPARE}: ${spareOf}\r\n`;
  // We keep bytes that come in the same read as the 101, so the relay need not hold them back (extension).
  text += `${WIRE_HEADER_FEATURES}: ${FEATURE_EARLY_DATA}\r\n`;
  return `${text}${WIRE_HEADER_API_KEY}: ${url.key}\r\n\r\n`;
}

/**
 * Resolves once the relay answered 101 with the right Sec-WebRoute-Accept
 * (with the 101's headers); rejects with the relay's refusal as a RemotedError (the socket is then
 * destroyed), or with the socket's own error. The socket is read through
 * 'readable' so that, once our listener is gone, it is back in its initial
 * mode: the next 'data' listener or pipe() starts the flow, unshifted bytes first.
 */
function upgradeToWebRoute(socket: Socket, request: WebRouteRequest): Promise<WebRouteAnswer> {
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    let head: ResponseHead | undefined;

    const done = (err?: Error, rest?: Buffer, answer?: ResponseHead): void => {
      socket.off('readable', onReadable);
      socket.off('error', onError);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      if (err) {
        socket.destroy();
        reject(err);
        return;
      }
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve({ headers: answer?.headers ?? new Map() });
    };
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(new RemotedError('protocol_error', 'The connection to the relay closed before it answered.'));
    const onEnd = (): void => {
      // A refusal without Content-Length ends with the connection.
      if (head && head.status !== 101) done(refusal(head, received));
      else onClose();
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
        if (!head) {
          const parsed = parseHead(received);
          if (parsed === 'incomplete') {
            if (received.length > MAX_RESPONSE_HEAD_BYTES) return done(new RemotedError('protocol_error', 'The relay\'s answer head is too large.'));
            continue;
          }
          if (parsed === 'malformed') return done(new RemotedError('protocol_error', 'The relay did not answer with HTTP.'));
          head = parsed;
          if (head.status === 101) return finishSwitching(head);
        }
        const bodyBytes = received.length - head.length;
        const declared = Number(head.headers.get('content-length') ?? NaN);
        if (bodyBytes >= MAX_ERROR_BODY_BYTES || (Number.isFinite(declared) && bodyBytes >= declared)) {
          return done(refusal(head, received));
        }
      }
    };
    const finishSwitching = (answer: ResponseHead): void => {
      const upgrade = (answer.headers.get('upgrade') ?? '').toLowerCase();
      const accept = answer.headers.get(HEADER_WEBROUTE_ACCEPT);
      if (upgrade !== WEBROUTE_UPGRADE || accept !== webRouteAccept(request.id)) {
        return done(new RemotedError('protocol_error', 'The relay\'s 101 does not accept this WebRoute id.', 101));
      }
      done(undefined, received.subarray(answer.length), answer);
    };

    socket.on('readable', onReadable);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    const text = webRouteRequestText(request);
    socket.write(request.earlyData && request.earlyData.length > 0 ? Buffer.concat([Buffer.from(text, 'latin1'), request.earlyData]) : text);
  });
}

function refusal(head: ResponseHead, received: Buffer): RemotedError {
  const body = received.subarray(head.length, head.length + MAX_ERROR_BODY_BYTES).toString('utf8');
  return refusalError(head.status, body);
}

function parseHead(buffer: Buffer): ResponseHead | 'incomplete' | 'malformed' {
  const end = buffer.indexOf('\r\n\r\n');
  if (end === -1) return 'incomplete';
  const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!match) return 'malformed';
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { status: Number(match[1]), headers, length: end + 4 };
}
