/** Pure functions that read an upgrade request: what it asks for, on which path, with which id and timeout. */
import type { IncomingMessage } from 'node:http';
import {
  HEADER_API_KEY,
  HEADER_WEBROUTE_ID,
  HEADER_WEBROUTE_TIMEOUT,
  HEADER_WEBROUTE_VERSION,
  WEBROUTE_UPGRADE,
  WEBROUTE_VERSION,
  WEBSOCKET_UPGRADE,
} from '@remoted/sdk/wire/protocol';

export type UpgradeKind = 'websocket' | 'webroute' | 'other';

export function upgradeKind(req: IncomingMessage): UpgradeKind {
  const upgrade = (req.headers.upgrade ?? '').trim().toLowerCase();
  if (upgrade === WEBSOCKET_UPGRADE) return 'websocket';
  if (upgrade === WEBROUTE_UPGRADE) return 'webroute';
  return 'other';
}

/**
 * Longest route path a request may name, in characters (a request target is
 * ASCII on the wire, so bytes too). Real routes are short; a longer path is
 * refused before the key's scopes are matched against it, so no request can
 * make that work large.
 */
export const MAX_ROUTE_PATH_LENGTH = 1024;

/**
 * The route: the request target's path, without the query string (which is
 * ignored for routing), also when the target is in absolute form.
 */
export function routePath(url: string | undefined): string {
  let target = url ?? '/';
  if (!target.startsWith('/')) {
    try {
      target = new URL(target).pathname;
    } catch {
      return '/';
    }
  }
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  return path === '' ? '/' : path;
}

export function apiKeyOf(req: IncomingMessage): string | undefined {
  return singleHeader(req, HEADER_API_KEY);
}

/**
 * What a WebRoute-ID may be. The relay keeps each waiting dialer's id and
 * sends it to a listener, so its size must be bounded; and it is written into
 * JSON and headers, so only characters that need no escaping anywhere are
 * taken (RFC 3986 unreserved). Our SDK and the original PHP SDK both send 64
 * random letters and digits, well inside this.
 */
export const MAX_WEBROUTE_ID_LENGTH = 128;
const WEBROUTE_ID_PATTERN = /^[A-Za-z0-9._~-]+$/;
export const WEBROUTE_ID_RULE = `WebRoute-ID must be 1 to ${MAX_WEBROUTE_ID_LENGTH} characters of A-Z, a-z, 0-9, "-", "_", "." or "~".`;

export type WebRouteRequest =
  | { ok: true; id: string; requestedTimeoutSeconds: number | undefined }
  | { ok: false; problem: 'version' | 'missing_id' | 'bad_id' };

/** Reads WebRoute-Version, WebRoute-ID and WebRoute-Timeout. */
export function parseWebRouteRequest(req: IncomingMessage): WebRouteRequest {
  if (singleHeader(req, HEADER_WEBROUTE_VERSION) !== WEBROUTE_VERSION) return { ok: false, problem: 'version' };
  const id = singleHeader(req, HEADER_WEBROUTE_ID);
  if (!id) return { ok: false, problem: 'missing_id' };
  // The length first, so that a long id is not scanned.
  if (id.length > MAX_WEBROUTE_ID_LENGTH || !WEBROUTE_ID_PATTERN.test(id)) return { ok: false, problem: 'bad_id' };
  return { ok: true, id, requestedTimeoutSeconds: positiveInteger(singleHeader(req, HEADER_WEBROUTE_TIMEOUT)) };
}

/** A side's effective timeout: the relay's default or its own request, whichever is larger. */
export function effectiveTimeoutSeconds(defaultSeconds: number, requestedSeconds: number | undefined): number {
  return requestedSeconds === undefined ? defaultSeconds : Math.max(defaultSeconds, requestedSeconds);
}

function positiveInteger(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** A header's first value, trimmed; undefined when missing or empty. */
export function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  const trimmed = text?.trim();
  return trimmed === '' ? undefined : trimmed;
}
