/**
 * Extension frames on a listener's WebSocket (docs/protocol.md, listener
 * features): text frames holding one JSON object with an `op` member, both
 * ways. The one encoder and decoder of them, for the relay and the SDK alike.
 */
import { type ListenerOpMessage, MAX_REFUSE_REASON_LENGTH } from './protocol';
import { parseJsonObject } from './json-object';

/** The frame's text; JSON.stringify keeps the members in the order given. */
export function encodeListenerOp(op: ListenerOpMessage): string {
  if (op.op === 'refuse') return JSON.stringify({ op: op.op, id: op.id, reason: refuseReason(op.reason) });
  return JSON.stringify(op);
}

/** The op of a frame's text, or undefined for anything else (junk, a notify message, an op we do not know). */
export function parseListenerOp(text: string): ListenerOpMessage | undefined {
  const value = parseJsonObject(text);
  return value && listenerOpOf(value);
}

/** The op of an already parsed JSON object, or undefined. */
export function listenerOpOf(value: Record<string, unknown>): ListenerOpMessage | undefined {
  if (value.op === 'drain') return { op: 'drain' };
  if (value.op === 'draining' && (value.by === 'listener' || value.by === 'operator')) return { op: 'draining', by: value.by };
  if (value.op === 'refuse' && typeof value.id === 'string' && value.id !== '') {
    return { op: 'refuse', id: value.id, reason: refuseReason(typeof value.reason === 'string' ? value.reason : '') };
  }
  return undefined;
}

/** One line of at most MAX_REFUSE_REASON_LENGTH characters: it reaches the dialer inside an error body. */
export function refuseReason(text: string): string {
  // Control characters (line breaks included) become spaces.
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, MAX_REFUSE_REASON_LENGTH);
}
