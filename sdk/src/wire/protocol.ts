/**
 * The wire protocol's names and numbers, shared by the relay and the SDK so
 * that nothing else spells a header or an error code (docs/protocol.md).
 * The messages themselves are encoded and decoded by the codecs beside this file.
 */
import { createHash, randomBytes } from 'node:crypto';

export const DEFAULT_PORT = 37791;
export const DEFAULT_TIMEOUT_SECONDS = 60;

/** Header names, lower case as Node exposes them on IncomingMessage. */
export const HEADER_API_KEY = 'x-remoted-apikey';
export const HEADER_WEBROUTE_VERSION = 'webroute-version';
export const HEADER_WEBROUTE_ID = 'webroute-id';
export const HEADER_WEBROUTE_TIMEOUT = 'webroute-timeout';
export const HEADER_WEBROUTE_ACCEPT = 'sec-webroute-accept';
/** Extension: what a peer declares it supports, comma-separated tokens. */
export const HEADER_FEATURES = 'x-remoted-features';

/** The same headers as written on the wire, in the original's spelling. */
export const WIRE_HEADER_API_KEY = 'X-Remoted-APIKey';
export const WIRE_HEADER_WEBROUTE_VERSION = 'WebRoute-Version';
export const WIRE_HEADER_WEBROUTE_ID = 'WebRoute-ID';
export const WIRE_HEADER_WEBROUTE_TIMEOUT = 'WebRoute-Timeout';
export const WIRE_HEADER_WEBROUTE_ACCEPT = 'Sec-WebRoute-Accept';
export const WIRE_HEADER_FEATURES = 'X-Remoted-Features';

/**
 * Feature token of a WebRoute peer that keeps bytes arriving in the same read
 * as its 101. The original PHP SDK drops them, so the relay holds bytes for a
 * peer that does not declare this for a moment after its 101 (extension).
 */
export const FEATURE_EARLY_DATA = 'early-data';

/** The header's codec is features.ts; re-exported for the SDK's users who read it from `@remoted/sdk/protocol`. */
export { hasFeature } from './features';

/** Listener features (docs/protocol.md, listener features): asked for on the WebSocket upgrade. */
export const FEATURE_DRAIN = 'drain';
export const FEATURE_SPARE = 'spare';
/** The listener may refuse a dial it was told of ({"op":"refuse"}): the relay answers that dialer 502 destination_unreachable. */
export const FEATURE_REFUSE = 'refuse';
/** A refusal's reason is cut to this many characters: it ends up in the dialer's error body. */
export const MAX_REFUSE_REASON_LENGTH = 200;
/** Extension headers of the listener features. */
export const HEADER_LISTENER_ID = 'x-remoted-listener-id';
export const HEADER_SPARES = 'x-remoted-spares';
export const HEADER_SPARE = 'x-remoted-spare';
export const HEADER_DIALER_ADDRESS = 'x-remoted-dialer-address';
export const HEADER_DIALER_ID = 'x-remoted-dialer-id';
export const WIRE_HEADER_LISTENER_ID = 'X-Remoted-Listener-ID';
export const WIRE_HEADER_SPARES = 'X-Remoted-Spares';
export const WIRE_HEADER_SPARE = 'X-Remoted-Spare';
export const WIRE_HEADER_DIALER_ADDRESS = 'X-Remoted-Dialer-Address';
export const WIRE_HEADER_DIALER_ID = 'X-Remoted-Dialer-ID';

/** Extension frames (text, JSON with an `op`) between a listener that negotiated features and the relay. */
export type ListenerOpMessage =
  | { op: 'drain' }
  | { op: 'draining'; by: 'listener' | 'operator' }
  /** Listener to relay (feature `refuse`): it cannot serve the dial it was told of with this id. */
  | { op: 'refuse'; id: string; reason: string };

/** WebSocket close code of a listener replaced by a new one with the same key (takeover policy). */
export const CLOSE_REPLACED = 4000;
export const CLOSE_REPLACED_REASON = 'replaced by a new listener';

/**
 * WebSocket close codes of a listener whose key no longer holds its path:
 * revoked, expired, or its scopes changed off the path. A listener must not
 * reconnect on them: the relay would refuse it (403) every time.
 */
export const CLOSE_KEY_REVOKED = 4001;
export const CLOSE_KEY_EXPIRED = 4002;
export const CLOSE_KEY_OUT_OF_SCOPE = 4003;
export type KeyLossCode = 'key_revoked' | 'key_expired' | 'key_out_of_scope';
/** Close code and reason per way a key can lose a path; the reason is what the relay sends. */
export const KEY_LOSS_CLOSE: Readonly<Record<KeyLossCode, { code: number; reason: string }>> = {
  key_revoked: { code: CLOSE_KEY_REVOKED, reason: 'the key of this listener was revoked' },
  key_expired: { code: CLOSE_KEY_EXPIRED, reason: 'the key of this listener expired' },
  key_out_of_scope: { code: CLOSE_KEY_OUT_OF_SCOPE, reason: 'the key of this listener no longer allows this path' },
};

/**
 * WebSocket close code of a listener an operator closed for good
 * (CloseRoute, CLOSE_ROUTE_MODE_FOR_GOOD); the close reason is the
 * operator's. A listener must not reconnect on it. A kick is 1008 instead,
 * and a listener may come back after it.
 */
export const CLOSE_ROUTE_CLOSED = 4004;
/** The close reason when the operator gave none. */
export const CLOSE_BY_OPERATOR_REASON = 'closed by the operator';
/** A WebSocket close reason holds at most 123 bytes; the operator's is bounded below that. */
export const MAX_CLOSE_REASON_BYTES = 120;

/** The key loss a close code means, if any. */
export function keyLossOfClose(code: number): KeyLossCode | undefined {
  return (Object.keys(KEY_LOSS_CLOSE) as KeyLossCode[]).find((loss) => KEY_LOSS_CLOSE[loss].code === code);
}

export const WEBROUTE_UPGRADE = 'webroute';
export const WEBSOCKET_UPGRADE = 'websocket';
export const WEBROUTE_VERSION = '1';
export const WEBROUTE_GUID = 'BE7204BD-47E6-49EE-9B0D-016E370644B2';

/** The SDKs send 64 random [A-Za-z0-9] as a WebRoute id, and keys have the same form. */
export const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const ID_LENGTH = 64;

export type ErrorCode =
  | 'invalid_missing_apikey'
  | 'invalid_request'
  | 'missing_destination'
  | 'path_in_use'
  | 'headers_too_large'
  | 'over_capacity'
  /** Extension: too many failed authentications from one address; the answer carries Retry-After. */
  | 'too_many_requests'
  /** Extension: the listener told of the dial refused it (feature `refuse`), e.g. its local service is down. */
  | 'destination_unreachable';

/** The HTTP status the relay answers with for each error code. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_missing_apikey: 403,
  invalid_request: 400,
  missing_destination: 502,
  path_in_use: 409,
  headers_too_large: 431,
  over_capacity: 503,
  too_many_requests: 429,
  // After missing_destination: a bare 502 from the original still reads as missing_destination.
  destination_unreachable: 502,
};

export const ERROR_CODES = Object.keys(ERROR_STATUS) as readonly ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}

/** The JSON body of every refusal. */
export interface ErrorBody {
  success: false;
  error: string;
  errorcode: ErrorCode;
}

/** What the relay tells a listener about a waiting dialer: keys in this order. */
export interface NotifyMessage {
  ipaddr: string;
  id: string;
  timeout: number;
}

/** Value of Sec-WebRoute-Accept for a WebRoute id. */
export function webRouteAccept(id: string): string {
  return createHash('sha1').update(id + WEBROUTE_GUID).digest('base64');
}

/** Random characters of [A-Za-z0-9] (64 by default), as the original SDKs and installer make ids and keys. */
export function randomToken(length: number = ID_LENGTH): string {
  // Rejection sampling keeps every character equally likely: 248 = 4 * 62.
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ID_ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** An address in the original's `ipaddr` form: `1.2.3.4:5` or `[::1]:5`. */
export function formatAddress(address: string | undefined, port: number | undefined): string {
  const host = address ?? '';
  const bare = host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
  return bare.includes(':') ? `[${bare}]:${port ?? 0}` : `${bare}:${port ?? 0}`;
}

/**
 * A refusal by the relay (or a failure the SDK reports in the relay's terms).
 * Branch on `code`, never on the message.
 */
export class RemotedError extends Error {
  override name = 'RemotedError';
  constructor(
    /** `replaced`: a new listener with the same key took the path over (takeover policy, close code 4000). */
    /** `key_revoked`, `key_expired`, `key_out_of_scope`: the relay closed a listener whose key lost its path (close codes 4001-4003). */
    /** `route_closed`: an operator closed the listener's route for good (close code 4004; the message carries the reason). */
    readonly code: ErrorCode | 'timeout' | 'upgrade_required' | 'protocol_error' | 'replaced' | 'route_closed' | KeyLossCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
