/**
 * Relay objects as API messages (plain init objects). A live route's own
 * figures (state, links, spares) come from its listener; its waiting dialers
 * and bytes are summed over the registry, never kept twice.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { KeyState, type KeySchema } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import type { LinkSchema } from '@remoted/sdk/gen/remoted/admin/v1/link_pb';
import type { RouteSchema } from '@remoted/sdk/gen/remoted/admin/v1/route_pb';
import type { ApiKey } from '../keys/api-key';
import type { Link } from '../relay/link';
import { type LinkSnapshot, type RouteSnapshot, routeSnapshotOf } from '../relay/relay-events';
import type { RouteListener, RouteRegistry } from '../relay/route-registry';
import { roleToProto, routePolicyToProto, routeStateToProto } from './proto-enums';
import { keyName, linkName, routeName } from './resource-names';

export type KeyInit = MessageInitShape<typeof KeySchema>;
export type RouteInit = MessageInitShape<typeof RouteSchema>;
export type LinkInit = MessageInitShape<typeof LinkSchema>;

export function keyToProto(key: ApiKey, now: Date = new Date()): KeyInit {
  return {
    name: keyName(key.id),
    role: roleToProto(key.role),
    label: key.label,
    scopes: [...key.scopes],
    state: keyState(key, now),
    createTime: timestampFromDate(key.createdAt),
    expireTime: key.expiresAt ? timestampFromDate(key.expiresAt) : undefined,
    revokeTime: key.revokedAt ? timestampFromDate(key.revokedAt) : undefined,
    routePolicy: routePolicyToProto(key.routePolicy),
    poolSize: key.poolSize ?? 0,
    maxRoutes: key.limits.maxRoutes ?? 0,
    maxWaitingDialers: key.limits.maxWaitingDialers ?? 0,
    maxSpares: key.limits.maxSpares ?? 0,
    maxLinks: key.limits.maxLinks ?? 0,
  };
}

function keyState(key: ApiKey, now: Date): KeyState {
  if (key.revokedAt) return KeyState.REVOKED;
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return KeyState.EXPIRED;
  return KeyState.ACTIVE;
}

/** What a route's waiting dialers and open links add up to. */
export interface RouteCounters {
  waitingDialers: number;
  bytesToListener: number;
  bytesToDialers: number;
}

/** Counters of every route in one pass over the registry, by listener id. */
export function routeCounters(registry: RouteRegistry): Map<string, RouteCounters> {
  const byListener = new Map<string, RouteCounters>();
  const entry = (listenerId: string): RouteCounters => {
    let counters = byListener.get(listenerId);
    if (!counters) byListener.set(listenerId, (counters = { waitingDialers: 0, bytesToListener: 0, bytesToDialers: 0 }));
    return counters;
  };
  for (const dialer of registry.waitingDialers()) entry(dialer.listenerId).waitingDialers++;
  for (const link of registry.links()) {
    const snapshot = link.snapshot();
    const counters = entry(snapshot.listenerId);
    counters.bytesToListener += snapshot.bytesToListener;
    counters.bytesToDialers += snapshot.bytesToDialer;
  }
  return byListener;
}

/** A route from an event's snapshot: what stays true once its listener has gone. */
export function routeToProto(route: RouteSnapshot, counters?: RouteCounters): RouteInit {
  return {
    name: routeName(route.listenerId),
    path: route.path,
    key: keyName(route.keyId),
    listenerAddress: route.listenerAddress,
    openTime: timestampFromDate(route.since),
    waitingDialers: counters?.waitingDialers ?? 0,
    bytesToListener: BigInt(counters?.bytesToListener ?? 0),
    bytesToDialers: BigInt(counters?.bytesToDialers ?? 0),
  };
}

/** A live route: the snapshot plus what its listener knows now. */
export function listenerToProto(listener: RouteListener, counters?: RouteCounters): RouteInit {
  return {
    ...routeToProto(routeSnapshotOf(listener), counters),
    activeLinks: listener.activeLinks,
    state: routeStateToProto(listener.state),
    policy: routePolicyToProto(listener.policy),
    features: [...listener.features],
    slowDialbacks: listener.slowDialbacks,
    spares: listener.spareCount,
  };
}

export function linkSnapshotToProto(snapshot: LinkSnapshot): LinkInit {
  return {
    name: linkName(snapshot.linkId),
    route: routeName(snapshot.listenerId),
    path: snapshot.path,
    dialerKey: keyName(snapshot.dialerKeyId),
    listenerKey: keyName(snapshot.listenerKeyId),
    dialerAddress: snapshot.dialerAddress,
    openTime: timestampFromDate(snapshot.since),
    bytesToListener: BigInt(snapshot.bytesToListener),
    bytesToDialer: BigInt(snapshot.bytesToDialer),
  };
}

/** A live link: its snapshot plus idle time and timeout. */
export function linkToProto(link: Link, nowMs: number): LinkInit {
  return {
    ...linkSnapshotToProto(link.snapshot()),
    idleDuration: durationFromMs(Math.max(0, link.idleMs(nowMs))),
    idleTimeout: durationFromMs(link.idleTimeoutMs),
  };
}
