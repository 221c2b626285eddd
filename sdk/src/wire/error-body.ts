/**
 * The JSON body of every refusal (docs/protocol.md, "Errors"):
 * `{"success":false,"error":"...","errorcode":"..."}`. Its one encoder (the
 * relay) and decoder (the SDK, which turns it into a RemotedError).
 */
import { type ErrorBody, type ErrorCode, isErrorCode } from './protocol';
import { parseJsonObject } from './json-object';

/** Bodies longer than this are not errors the relay writes; the rest is not read. */
export const MAX_ERROR_BODY_BYTES = 16 * 1024;

export function encodeErrorBody(code: ErrorCode, message: string): string {
  const body: ErrorBody = { success: false, error: message, errorcode: code };
  return JSON.stringify(body);
}

/** What a refusal's body says: its code, and its sentence when it has one. Undefined when it is not such a body. */
export function parseErrorBody(text: string): { errorcode: ErrorCode; error: string | undefined } | undefined {
  const value = parseJsonObject(text);
  if (!value || !isErrorCode(value.errorcode)) return undefined;
  return { errorcode: value.errorcode, error: typeof value.error === 'string' ? value.error : undefined };
}
