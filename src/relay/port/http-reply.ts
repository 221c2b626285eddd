/**
 * Every raw HTTP answer the relay writes on a socket it took over: the only
 * place that spells a status line. A refusal ends the socket, and destroys
 * it once the answer is flushed, so no refused connection lingers.
 */
import type { Duplex } from 'node:stream';
import {
  ERROR_STATUS,
  type ErrorCode,
  WEBROUTE_UPGRADE,
  WEBROUTE_VERSION,
  WIRE_HEADER_DIALER_ADDRESS,
  WIRE_HEADER_DIALER_ID,
  WIRE_HEADER_WEBROUTE_ACCEPT,
  WIRE_HEADER_WEBROUTE_TIMEOUT,
  WIRE_HEADER_WEBROUTE_VERSION,
  webRouteAccept,
} from '@remoted/sdk/wire/protocol';
import { encodeErrorBody } from '@remoted/sdk/wire/error-body';
import { type ServerResponse, STATUS_CODES } from 'node:http';
import { reportRefusal } from './refusal-reporting';
import type { RefusalCode } from '../context/relay-events';

/** The sentence each refusal carries unless a more precise one is given. */
export const ERROR_MESSAGES: Readonly<Record<ErrorCode, string>> = {
  invalid_missing_apikey: 'Invalid or missing API key.',
  invalid_request: 'Invalid request.',
  missing_destination: 'No listener is available on this path.',
  path_in_use: 'Another listener is already listening on this path.',
  headers_too_large: 'Request headers are too large.',
  over_capacity: 'The relay is over capacity for this request. Try again later.',
  too_many_requests: 'Too many failed authentications from this address. Try again later.',
  destination_unreachable: 'The listener could not serve this dial.',
};

export function errorBody(code: ErrorCode, message: string = ERROR_MESSAGES[code]): string {
  return encodeErrorBody(code, message);
}

export function errorHeaders(body: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
}

/** Refuses a plain (not upgraded) HTTP request with the protocol's JSON error; the connection closes after it. */
export function replyHttpError(res: ServerResponse, code: ErrorCode, message?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(code, message);
  res.writeHead(ERROR_STATUS[code], errorHeaders(body)).end(body);
}

/** 429 too_many_requests to a plain HTTP request, with the seconds to wait; the connection closes after it. */
export function replyHttpThrottled(res: ServerResponse, retryAfterSeconds: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody('too_many_requests');
  res.writeHead(ERROR_STATUS.too_many_requests, { 'Retry-After': String(retryAfterSeconds), ...errorHeaders(body) }).end(body);
}

/** Refuses with the JSON error of the protocol. */
export function replyError(socket: Duplex, code: ErrorCode, message?: string): void {
  const body = errorBody(code, message);
  writeAndClose(socket, code, ERROR_STATUS[code], errorHeaders(body), body);
}

/** 429 too_many_requests, with the seconds to wait (extension). */
export function replyThrottled(socket: Duplex, retryAfterSeconds: number): void {
  const body = errorBody('too_many_requests');
  writeAndClose(socket, 'too_many_requests', ERROR_STATUS.too_many_requests, { 'Retry-After': String(retryAfterSeconds), ...errorHeaders(body) }, body);
}

/** 426: the WebRoute version is not one this relay speaks. */
export function replyUpgradeRequired(socket: Duplex): void {
  writeAndClose(socket, 'upgrade_required', 426, { [WIRE_HEADER_WEBROUTE_VERSION]: WEBROUTE_VERSION, 'Content-Length': '0', Connection: 'close' }, '');
}

/** 504: no dial-back within the relay's default timeout. */
export function replyTimeout(socket: Duplex): void {
  writeAndClose(socket, 'timeout', 504, { [WIRE_HEADER_WEBROUTE_VERSION]: WEBROUTE_VERSION, 'Content-Length': '0', Connection: 'close' }, '');
}

/** The 101 each half of a link gets; the Link writes it, with any bytes already held for that side (one write). */
export function switchingAnswer(id: string): string {
  return `${switchingHead(id)}\r\n`;
}

/** What a spare learns of the dialer it is linked to (docs/protocol.md, spares). */
export interface SpareDialerInfo {
  address: string;
  id: string;
  timeoutSeconds: number;
}

/** The 101 of a spare taken by a dial: the base 101 plus who dialed. */
export function spareSwitchingAnswer(spareId: string, dialer: SpareDialerInfo): string {
  return (
    switchingHead(spareId) +
    // The address comes from the socket or a trusted proxy; an id with a line break never gets this far.
    `${WIRE_HEADER_DIALER_ADDRESS}: ${dialer.address}\r\n` +
    `${WIRE_HEADER_DIALER_ID}: ${dialer.id}\r\n` +
    `${WIRE_HEADER_WEBROUTE_TIMEOUT}: ${dialer.timeoutSeconds}\r\n\r\n`
  );
}

function switchingHead(id: string): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\n' +
    `Upgrade: ${WEBROUTE_UPGRADE}\r\n` +
    'Connection: Upgrade\r\n' +
    `${WIRE_HEADER_WEBROUTE_ACCEPT}: ${webRouteAccept(id)}\r\n`
  );
}

function writeAndClose(socket: Duplex, code: RefusalCode, status: number, headers: Record<string, string>, body: string): void {
  reportRefusal(socket, status, code);
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(`${head}\r\n${body}`);
}
