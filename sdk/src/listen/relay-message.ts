/**
 * What a listener reads on its WebSocket: notify messages (docs/protocol.md, section 2)
 * and, from a relay that granted listener features, extension frames with an
 * `op` member (docs/protocol.md, listener features). Notify messages never
 * have an `op`, so one JSON parse tells them apart.
 */
import type { RawData } from 'ws';
import type { ListenerOpMessage, NotifyMessage } from '../wire/protocol';
import { parseJsonObject } from '../wire/json-object';
import { listenerOpOf } from '../wire/listener-ops';
import { notifyOf, parseNotifyText } from '../wire/notify';

export type RelayMessage =
  | { kind: 'notify'; notify: NotifyMessage }
  | { kind: 'op'; op: ListenerOpMessage }
  /** Junk, the original's `"id": false`, or an op we do not know: a listener ignores them. */
  | { kind: 'ignored' };

const IGNORED: RelayMessage = { kind: 'ignored' };

export function parseRelayMessage(data: RawData): RelayMessage {
  const value = parseJsonObject(rawText(data));
  if (!value) return IGNORED;
  if ('op' in value) {
    const op = listenerOpOf(value);
    return op ? { kind: 'op', op } : IGNORED;
  }
  const notify = notifyOf(value);
  return notify ? { kind: 'notify', notify } : IGNORED;
}

/** A notify message, or undefined for anything else (the original's `"id": false`, junk, an extension frame). */
export function parseNotify(data: RawData): NotifyMessage | undefined {
  return parseNotifyText(rawText(data));
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
