/** The relay's string unions and the API's enums, both ways. */
import { KeyRole as ProtoKeyRole, RoutePolicy as ProtoRoutePolicy } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { LinkCloseReason as ProtoLinkCloseReason } from '@remoted/sdk/gen/remoted/admin/v1/link_pb';
import {
  DrainedBy as ProtoDrainedBy,
  RouteCloseReason as ProtoRouteCloseReason,
  RouteState as ProtoRouteState,
} from '@remoted/sdk/gen/remoted/admin/v1/route_pb';
import type { KeyRole } from '../keys/api-key';
import type { RoutePolicy } from '../keys/route-policy';
import type { LinkCloseReason, RouteCloseReason } from '../relay/context/relay-events';
import type { DrainedBy, ListenerState } from '../relay/relay-admin';

const ROLES: Record<KeyRole, ProtoKeyRole> = {
  server: ProtoKeyRole.SERVER,
  client: ProtoKeyRole.CLIENT,
  admin: ProtoKeyRole.ADMIN,
};

export function roleToProto(role: KeyRole): ProtoKeyRole {
  return ROLES[role];
}

/** undefined for UNSPECIFIED or an unknown number. */
export function roleFromProto(role: ProtoKeyRole): KeyRole | undefined {
  return (Object.keys(ROLES) as KeyRole[]).find((name) => ROLES[name] === role);
}

const ROUTE_REASONS: Record<RouteCloseReason, ProtoRouteCloseReason> = {
  listener_closed: ProtoRouteCloseReason.LISTENER_CLOSED,
  ping_timeout: ProtoRouteCloseReason.PING_TIMEOUT,
  error: ProtoRouteCloseReason.ERROR,
  shutdown: ProtoRouteCloseReason.SHUTDOWN,
  forced: ProtoRouteCloseReason.FORCED,
  closed_for_good: ProtoRouteCloseReason.CLOSED_FOR_GOOD,
  replaced: ProtoRouteCloseReason.REPLACED,
  lease_lost: ProtoRouteCloseReason.LEASE_LOST,
  key_revoked: ProtoRouteCloseReason.KEY_REVOKED,
  key_expired: ProtoRouteCloseReason.KEY_EXPIRED,
  key_out_of_scope: ProtoRouteCloseReason.KEY_OUT_OF_SCOPE,
};

export function routeCloseReasonToProto(reason: RouteCloseReason): ProtoRouteCloseReason {
  return ROUTE_REASONS[reason] ?? ProtoRouteCloseReason.UNSPECIFIED;
}

const LINK_REASONS: Record<LinkCloseReason, ProtoLinkCloseReason> = {
  closed: ProtoLinkCloseReason.CLOSED,
  error: ProtoLinkCloseReason.ERROR,
  idle_timeout: ProtoLinkCloseReason.IDLE_TIMEOUT,
  shutdown: ProtoLinkCloseReason.SHUTDOWN,
  forced: ProtoLinkCloseReason.FORCED,
  key_revoked: ProtoLinkCloseReason.KEY_REVOKED,
  key_expired: ProtoLinkCloseReason.KEY_EXPIRED,
  key_out_of_scope: ProtoLinkCloseReason.KEY_OUT_OF_SCOPE,
};

export function linkCloseReasonToProto(reason: LinkCloseReason): ProtoLinkCloseReason {
  return LINK_REASONS[reason] ?? ProtoLinkCloseReason.UNSPECIFIED;
}

const POLICIES: Record<RoutePolicy, ProtoRoutePolicy> = {
  exclusive: ProtoRoutePolicy.EXCLUSIVE,
  takeover: ProtoRoutePolicy.TAKEOVER,
  pool: ProtoRoutePolicy.POOL,
};

/** UNSPECIFIED for undefined: the relay's default. */
export function routePolicyToProto(policy: RoutePolicy | undefined): ProtoRoutePolicy {
  return policy === undefined ? ProtoRoutePolicy.UNSPECIFIED : POLICIES[policy];
}

/** null for UNSPECIFIED (the relay's default), undefined for an unknown number. */
export function routePolicyFromProto(policy: ProtoRoutePolicy): RoutePolicy | null | undefined {
  if (policy === ProtoRoutePolicy.UNSPECIFIED) return null;
  return (Object.keys(POLICIES) as RoutePolicy[]).find((name) => POLICIES[name] === policy);
}

const STATES: Record<ListenerState, ProtoRouteState> = {
  active: ProtoRouteState.ACTIVE,
  draining: ProtoRouteState.DRAINING,
};

export function routeStateToProto(state: ListenerState): ProtoRouteState {
  return STATES[state] ?? ProtoRouteState.UNSPECIFIED;
}

const DRAINED_BY: Record<DrainedBy, ProtoDrainedBy> = {
  listener: ProtoDrainedBy.LISTENER,
  operator: ProtoDrainedBy.OPERATOR,
};

export function drainedByToProto(by: DrainedBy): ProtoDrainedBy {
  return DRAINED_BY[by] ?? ProtoDrainedBy.UNSPECIFIED;
}
