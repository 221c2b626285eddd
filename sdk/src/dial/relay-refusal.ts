/** Turns a relay's refusal (status line and JSON body) into a RemotedError that carries its code. */
import { ERROR_CODES, ERROR_STATUS, RemotedError } from '../wire/protocol';
import { parseErrorBody } from '../wire/error-body';

export function refusalError(status: number, body: string): RemotedError {
  // 504 and 426 carry no body (docs/protocol.md, "Timeouts" and "Errors").
  if (status === 504) return new RemotedError('timeout', 'No listener linked within the relay\'s timeout (504).', status);
  if (status === 426) return new RemotedError('upgrade_required', 'The relay does not speak this WebRoute version (426).', status);
  const parsed = parseErrorBody(body);
  if (parsed) return new RemotedError(parsed.errorcode, parsed.error ?? `Refused (${status}).`, status);
  // The original answers some refusals with another status or body: fall back to the status table.
  const byStatus = ERROR_CODES.find((code) => ERROR_STATUS[code] === status);
  if (byStatus) return new RemotedError(byStatus, `Refused by the relay (${status}).`, status);
  return new RemotedError('protocol_error', `Unexpected answer from the relay: HTTP ${status}.`, status);
}
