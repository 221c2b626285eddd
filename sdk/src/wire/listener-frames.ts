/**
 * The frames of a listener's WebSocket, with the one encoder and decoder of
 * each, for the relay and the SDK alike:
 * - the notify message (docs/protocol.md, section 2): a text frame the relay
 *   sends for each waiting dialer, telling the listener where to dial back;
 * - extension frames (docs/protocol.md, listener features): one JSON object
 *   with an `op` member, both ways, once the relay granted features.
 * Notify messages never have an `op`, so one JSON parse tells them apart.
 */
import { type ListenerOpMessage, MAX_REFUSE_REASON_LENGTH, type NotifyMessage } from './protocol';
import { parseJsonObject } from './json-object';

/** The frame's text: keys in the protocol's order; JSON.stringify leaves slashes unescaped, as the original. */
export function encodeNotify(message: NotifyMessage): string {
  return JSON.stringify({ ipaddr: message.ipaddr, id: message.id, timeout: message.timeout });
}

/** The notify message a frame's text holds, or undefined (junk, an extension frame, the original's `"id": false`). */
export function parseNotifyText(text: string): NotifyMessage | undefined {
  const value = parseJsonObject(text);
  return value && !('op' in value) ? notifyOf(value) : undefined;
}

/**
 * The notify message of an already parsed object, or undefined. An id is
 * sent back in a header, so one with a line break is no id; a missing
 * address or timeout reads as '' and 0 (the original may leave them out).
 */
export function notifyOf(value: Record<string, unknown>): NotifyMessage | undefined {
  const { ipaddr, id, timeout } = value;
  if (typeof id !== 'string' || id === '' || /[\r\n]/.test(id)) return undefined;
  return {
    ipaddr: typeof ipaddr === 'string' ? ipaddr : '',
    id,
    timeout: typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : 0,
  };
}

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

/** What a listener reads on its WebSocket. */
export type ListenerFrame =
  | { kind: 'notify'; notify: NotifyMessage }
  | { kind: 'op'; op: ListenerOpMessage }
  /** Junk, the original's `"id": false`, or an op we do not know: a listener ignores them. */
  | { kind: 'ignored' };

/** A frame's payload as ws hands it over (its RawData), or as text. */
export type FrameData = string | Buffer | ArrayBuffer | Buffer[];

const IGNORED: ListenerFrame = { kind: 'ignored' };

/** One JSON parse tells a notify message from an op frame. */
export function parseListenerFrame(data: FrameData): ListenerFrame {
  const value = parseJsonObject(frameText(data));
  if (!value) return IGNORED;
  if ('op' in value) {
    const op = listenerOpOf(value);
    return op ? { kind: 'op', op } : IGNORED;
  }
  const notify = notifyOf(value);
  return notify ? { kind: 'notify', notify } : IGNORED;
}

/** A notify message, or undefined for anything else (the original's `"id": false`, junk, an extension frame). */
export function parseNotify(data: FrameData): NotifyMessage | undefined {
  return parseNotifyText(frameText(data));
}

function frameText(data: FrameData): string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
