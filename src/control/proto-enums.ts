/** The relay's string unions and the API's enums, both ways. */
import { KeyRole as ProtoKeyRole } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { LinkCloseReason as ProtoLinkCloseReason } from '@remoted/sdk/gen/remoted/admin/v1/link_pb';
import { RouteCloseReason as ProtoRouteCloseReason } from '@remoted/sdk/gen/remoted/admin/v1/route_pb';
import type { KeyRole } from '../keys/api-key';
import type { LinkCloseReason, RouteCloseReason } from '../relay/relay-events';

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
};

export function linkCloseReasonToProto(reason: LinkCloseReason): ProtoLinkCloseReason {
  return LINK_REASONS[reason] ?? ProtoLinkCloseReason.UNSPECIFIED;
}
