/**
 * Checks of the key fields a request may set, each failing with
 * INVALID_ARGUMENT that names the field. Route policy and pool size belong to
 * server keys: on any other role they would be stored and never used, so
 * setting them is refused rather than silently kept.
 */
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import type { RoutePolicy as ProtoRoutePolicy } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { KEY_LIMIT_ROLE, type KeyLimitName, type KeyRole } from '../keys/api-key';
import { validateScope } from '../keys/path-scope';
import { MAX_POOL_SIZE, type RoutePolicy } from '../keys/route-policy';
import { invalidArgument } from './control-error';
import { routePolicyFromProto } from './proto-enums';

const MAX_LABEL_LENGTH = 200;
const MAX_SCOPES = 100;

export function checkedLabel(field: string, label: string): string {
  if (label.length > MAX_LABEL_LENGTH) throw invalidArgument(field, `at most ${MAX_LABEL_LENGTH} characters (got ${label.length})`);
  return label;
}

export function checkedScopes(field: string, scopes: readonly string[]): string[] {
  if (scopes.length > MAX_SCOPES) throw invalidArgument(field, `at most ${MAX_SCOPES} patterns (got ${scopes.length})`);
  scopes.forEach((scope, i) => {
    const problem = validateScope(scope);
    if (problem) throw invalidArgument(`${field}[${i}]`, problem);
  });
  return [...scopes];
}

/**
 * The range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999999Z. A JS Date holds all of it; a value past it
 * became an Invalid Date, stored as no expiry at all.
 */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800n;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n;
const MAX_NANOS = 999_999_999;

/** Every timestamp a request sets goes through here, so none becomes an Invalid Date. */
export function checkedTimestamp(field: string, timestamp: Timestamp): Date {
  const { seconds, nanos } = timestamp;
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) {
    throw invalidArgument(field, `seconds ${seconds} is out of range: from ${MIN_TIMESTAMP_SECONDS} (0001-01-01) to ${MAX_TIMESTAMP_SECONDS} (9999-12-31)`);
  }
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > MAX_NANOS) throw invalidArgument(field, `nanos ${nanos} is out of range: from 0 to ${MAX_NANOS}`);
  // Truncated to the millisecond a Date holds (timestampDate rounds up, which can step past 9999-12-31).
  return new Date(Number(seconds) * 1000 + Math.floor(nanos / 1_000_000));
}

export function checkedExpiry(field: string, expireTime: Timestamp): Date {
  const date = checkedTimestamp(field, expireTime);
  if (date.getTime() <= Date.now()) throw invalidArgument(field, `${date.toISOString()} is not in the future`);
  return date;
}

/** null for ROUTE_POLICY_UNSPECIFIED: the relay's default, allowed on any role. */
export function checkedRoutePolicy(field: string, role: KeyRole, value: ProtoRoutePolicy): RoutePolicy | null {
  const policy = routePolicyFromProto(value);
  if (policy === undefined) throw invalidArgument(field, `unknown route policy ${value}; use ROUTE_POLICY_EXCLUSIVE, ROUTE_POLICY_TAKEOVER or ROUTE_POLICY_POOL`);
  if (policy !== null) serverOnly(field, role);
  return policy;
}

/** null for 0: the relay's default, allowed on any role. */
export function checkedPoolSize(field: string, role: KeyRole, value: number): number | null {
  if (value === 0) return null;
  if (value > MAX_POOL_SIZE) throw invalidArgument(field, `at most ${MAX_POOL_SIZE} listeners (got ${value}); 0 means the relay's default`);
  serverOnly(field, role);
  return value;
}

/** The most a per-key cap may be: the largest relay-wide limit. */
const MAX_KEY_LIMIT = 10_000_000;

/** null for 0: the relay's default, allowed on any role; otherwise only on the role that holds such things. */
export function checkedKeyLimit(field: string, name: KeyLimitName, role: KeyRole, value: number): number | null {
  if (value === 0) return null;
  if (value > MAX_KEY_LIMIT) throw invalidArgument(field, `at most ${MAX_KEY_LIMIT} (got ${value}); 0 means the relay's default`);
  const holder = KEY_LIMIT_ROLE[name];
  if (role !== holder) throw invalidArgument(field, `only ${holder} keys have this cap, and this key's role is ${role}`);
  return value;
}

function serverOnly(field: string, role: KeyRole): void {
  if (role !== 'server') throw invalidArgument(field, `only server keys have one, and this key's role is ${role} (listeners are opened with server keys)`);
}
