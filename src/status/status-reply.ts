/**
 * Every answer of the status port is written here: JSON bodies (refusals in
 * the relay's error shape, `{ success: false, error, errorcode }`, naming no
 * secret), static files, and the security headers every answer carries.
 */
import type { ServerResponse } from 'node:http';

export type StatusErrorCode =
  | 'unauthenticated'
  | 'bad_key'
  | 'csrf'
  | 'forbidden_origin'
  | 'too_many_requests'
  | 'not_found'
  | 'method_not_allowed'
  | 'body_too_large'
  | 'invalid_request'
  | 'too_many_streams'
  | 'internal';

const STATUS_OF: Readonly<Record<StatusErrorCode, number>> = {
  unauthenticated: 401,
  bad_key: 401,
  csrf: 403,
  forbidden_origin: 403,
  too_many_requests: 429,
  not_found: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  invalid_request: 400,
  too_many_streams: 503,
  internal: 500,
};

/**
 * No inline script or style, nothing from elsewhere; the page may not be
 * framed (clickjacking a confirmation dialog) nor post forms elsewhere.
 */
export const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function replyJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(value);
  res
    .writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Length': String(Buffer.byteLength(body)),
      ...headers,
    })
    .end(body);
}

export function replyStatusError(res: ServerResponse, code: StatusErrorCode, message: string, headers: Record<string, string> = {}): void {
  replyJson(res, STATUS_OF[code], { success: false, error: message, errorcode: code }, headers);
}

export function replyFile(res: ServerResponse, contentType: string, body: Buffer, head: boolean): void {
  res
    .writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': contentType,
      'Content-Length': String(body.length),
      // The page changes with the package: revalidate rather than keep a stale script.
      'Cache-Control': 'no-cache',
    })
    .end(head ? undefined : body);
}
