/**
 * The page's view of one event of the EventHub (the stream gRPC Watch
 * sends): plain JSON with the resource's name and path, a key's label and
 * id, never a secret (the hub's events carry none).
 */
import { LinkCloseReason } from '@remoted/sdk/gen/remoted/admin/v1/link_pb';
import { RouteCloseReason } from '@remoted/sdk/gen/remoted/admin/v1/route_pb';
import type { EventInit } from '../control/event-hub';

export interface StatusEvent {
  sequence: number;
  /** ISO 8601. */
  time: string;
  /** The hub's event case: routeOpened, linkClosed, keyRevoked... */
  kind: string;
  /** The resource it is about: `routes/...`, `links/...`, `keys/...`. */
  name: string;
  /** A route's or link's path, a key's label. */
  subject: string;
  /** Why it closed, for closes. */
  reason?: string;
}

export function statusEventOf(event: EventInit): StatusEvent {
  const seconds = event.time?.seconds ?? 0n;
  const time = new Date(Number(seconds) * 1000 + Math.floor((event.time?.nanos ?? 0) / 1e6)).toISOString();
  const base = { sequence: Number(event.sequence ?? 0n), time };
  const kind = event.kind;
  switch (kind?.case) {
    case 'routeOpened':
    case 'routeDrainStarted':
      return { ...base, kind: kind.case, name: kind.value.route?.name ?? '', subject: kind.value.route?.path ?? '' };
    case 'routeClosed':
      return { ...base, kind: kind.case, name: kind.value.route?.name ?? '', subject: kind.value.route?.path ?? '', reason: enumName(RouteCloseReason, kind.value.reason) };
    case 'linkOpened':
      return { ...base, kind: kind.case, name: kind.value.link?.name ?? '', subject: kind.value.link?.path ?? '' };
    case 'linkClosed':
      return { ...base, kind: kind.case, name: kind.value.link?.name ?? '', subject: kind.value.link?.path ?? '', reason: enumName(LinkCloseReason, kind.value.reason) };
    case 'keyCreated':
    case 'keyRevoked':
      return { ...base, kind: kind.case, name: kind.value.key?.name ?? '', subject: kind.value.key?.label ?? '' };
    case 'slowDialback':
      return { ...base, kind: kind.case, name: kind.value.route ?? '', subject: kind.value.path ?? '' };
    default:
      return { ...base, kind: 'unknown', name: '', subject: '' };
  }
}

/** `FORCED` -> `forced`, from the generated enum's reverse map. */
function enumName(values: Record<number, string>, value: number | undefined): string | undefined {
  if (value === undefined) return undefined;
  const name = values[value];
  return name === undefined ? String(value) : name.toLowerCase();
}
