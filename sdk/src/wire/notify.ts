/**
 * The notify message (docs/protocol.md, section 2): a text frame the relay
 * sends on a listener's WebSocket for each waiting dialer, telling it where to
 * dial back. Its one encoder (the relay) and decoder (the SDK).
 */
import type { NotifyMessage } from './protocol';
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
