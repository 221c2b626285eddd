/**
 * The relay's views and event snapshots as API messages (plain init
 * objects). Nothing here touches a live relay object: RelayAdmin makes the
 * views.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { KeyState, type KeySchema } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import type { LinkSchema } from '@remoted/sdk/gen/remoted/admin/v1/link_pb';
import type { RouteSchema } from '@remoted/sdk/gen/remoted/admin/v1/route_pb';
import type { ApiKey } from '../keys/api-key';
import type { LinkView, RouteView } from '../relay/relay-admin';
import type { LinkSnapshot, RouteSnapshot } from '../relay/context/relay-events';
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

/** A route from an event's snapshot: what stays true once its listener has gone. */
export function routeToProto(route: RouteSnapshot): RouteInit {
  return {
    name: routeName(route.listenerId),
    path: route.path,
    key: keyName(route.keyId),
    listenerAddress: route.listenerAddress,
    openTime: timestampFromDate(route.since),
    waitingDialers: 0,
    bytesToListener: 0n,
    bytesToDialers: 0n,
  };
}

/** A live route: the snapshot plus what its listener and the relay's tables know now. */
/** `node`: cluster mode, the node that holds it (empty on a single node). */
export function routeViewToProto(route: RouteView & { node?: string }): RouteInit {
  return {
    node: route.node ?? '',
    ...routeToProto(route),
    waitingDialers: route.waitingDialers,
    bytesToListener: BigInt(route.bytesToListener),
    bytesToDialers: BigInt(route.bytesToDialers),
    activeLinks: route.activeLinks,
    state: routeStateToProto(route.state),
    policy: routePolicyToProto(route.policy),
    features: [...route.features],
    slowDialbacks: route.slowDialbacks,
    spares: route.spares,
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
/** `node`: cluster mode, the node that holds it (empty on a single node). */
export function linkViewToProto(link: LinkView & { node?: string }): LinkInit {
  return {
    node: link.node ?? '',
    ...linkSnapshotToProto(link),
    idleDuration: durationFromMs(link.idleMs),
    idleTimeout: durationFromMs(link.idleTimeoutMs),
  };
}
