/**
 * Listener features (docs/protocol.md, "Extension: listener features"): what
 * a listener asks for on its WebSocket upgrade (X-Remoted-Features) and what
 * the relay's 101 grants (X-Remoted-Features, X-Remoted-Listener-ID,
 * X-Remoted-Spares). The one encoder and decoder of both. A relay that grants
 * nothing (the original) leaves the listener on the base protocol: no drain
 * frame, no spares.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  FEATURE_DRAIN,
  FEATURE_REFUSE,
  FEATURE_SPARE,
  HEADER_FEATURES,
  HEADER_LISTENER_ID,
  HEADER_SPARES,
  WIRE_HEADER_FEATURES,
  WIRE_HEADER_LISTENER_ID,
  WIRE_HEADER_SPARES,
} from './protocol';
import { encodeFeatures, hasFeature } from './features';

export interface ListenerGrant {
  /** X-Remoted-Listener-ID: what a spare names in X-Remoted-Spare. */
  listenerId: string | undefined;
  /** The relay takes {"op":"drain"} and tells us when an operator drains us. */
  drain: boolean;
  /** Most spares this listener may hold; 0 when `spare` was not granted. */
  spares: number;
  /** The relay takes {"op":"refuse"} for a dial we cannot serve and answers its dialer 502. */
  refuse: boolean;
}

export const NO_GRANT: ListenerGrant = { listenerId: undefined, drain: false, spares: 0, refuse: false };

/** The X-Remoted-Features value of the upgrade: drain always, spare only when we would hold any, refuse only when we may refuse. */
export function requestedFeatures(spares: number | 'auto', refuse = false): string {
  const features: string[] = [FEATURE_DRAIN];
  if (spares !== 0) features.push(FEATURE_SPARE);
  if (refuse) features.push(FEATURE_REFUSE);
  return encodeFeatures(features);
}

/**
 * The 101's extension header lines (`Name: value`, as ws's 'headers' event
 * takes them) for a grant of a listener with `listenerId`; none when nothing
 * is granted, so that a listener of the base protocol sees the original's 101.
 */
export function encodeListenerGrant(grant: ListenerGrant & { listenerId: string }): string[] {
  const features = [...(grant.drain ? [FEATURE_DRAIN] : []), ...(grant.spares > 0 ? [FEATURE_SPARE] : []), ...(grant.refuse ? [FEATURE_REFUSE] : [])];
  if (features.length === 0) return [];
  const headers = [`${WIRE_HEADER_FEATURES}: ${encodeFeatures(features)}`, `${WIRE_HEADER_LISTENER_ID}: ${grant.listenerId}`];
  if (grant.spares > 0) headers.push(`${WIRE_HEADER_SPARES}: ${grant.spares}`);
  return headers;
}

/** Reads the grant from the 101's headers (Node's lower-case names). */
export function readGrant(headers: IncomingHttpHeaders): ListenerGrant {
  const features = headers[HEADER_FEATURES];
  const listenerId = single(headers[HEADER_LISTENER_ID]);
  // A listener id with a line break could not be sent back in a header: no spares then.
  const usableId = listenerId !== undefined && listenerId !== '' && !/[\r\n]/.test(listenerId) ? listenerId : undefined;
  const sparesText = single(headers[HEADER_SPARES]) ?? '';
  const spares = /^\d{1,9}$/.test(sparesText) ? Number(sparesText) : 0;
  return {
    listenerId: usableId,
    drain: hasFeature(features, FEATURE_DRAIN),
    spares: hasFeature(features, FEATURE_SPARE) && usableId !== undefined ? spares : 0,
    refuse: hasFeature(features, FEATURE_REFUSE),
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
