/** Option parsers and labels of `remoted keys`: a bad value is a usage error (exit 2). */
import { type Key, KeyRole, RoutePolicy } from '../../gen/remoted/admin/v1/key_pb';
import { CliError } from '../exit-codes';
import { enumLabel } from './output';

const ROLES: Record<string, KeyRole> = { server: KeyRole.SERVER, client: KeyRole.CLIENT, admin: KeyRole.ADMIN };

/** `default` is the relay's own policy (REMOTED_ROUTE_POLICY): it clears a key's policy on update. */
const POLICIES: Record<string, RoutePolicy> = {
  default: RoutePolicy.UNSPECIFIED,
  exclusive: RoutePolicy.EXCLUSIVE,
  takeover: RoutePolicy.TAKEOVER,
  pool: RoutePolicy.POOL,
};

export function parseRole(value: string): KeyRole {
  const role = ROLES[value.toLowerCase()];
  if (role === undefined) throw new CliError('invalid_role', `--role must be server, client or admin (got "${value}")`);
  return role;
}

export function parseRoutePolicy(value: string): RoutePolicy {
  const policy = POLICIES[value.toLowerCase()];
  if (policy === undefined) throw new CliError('invalid_route_policy', `--route-policy must be exclusive, takeover, pool or default (got "${value}")`);
  return policy;
}

/** A whole number; 0 or `default` is the relay's default (the server checks the upper bound). */
export function parsePoolSize(value: string): number {
  return wholeOrDefault(value, 'invalid_pool_size', '--pool-size');
}

/** A per-key cap (--max-routes and the like): a whole number; 0 or `default` is the relay's default. */
export function parseCap(value: string): number {
  return wholeOrDefault(value, 'invalid_cap', 'a --max-* cap');
}

function wholeOrDefault(value: string, code: string, what: string): number {
  if (value.toLowerCase() === 'default') return 0;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new CliError(code, `${what} must be a whole number or default (got "${value}")`);
  return n;
}

/** Repeatable options; `previous` is undefined the first time when the option has no default. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const SPAN = /^(\d+)([smhd])$/;
const SPAN_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseExpiry(value: string): Date {
  const span = SPAN.exec(value);
  const date = span ? new Date(Date.now() + Number(span[1]) * SPAN_MS[span[2]]) : new Date(value);
  if (Number.isNaN(date.getTime())) throw new CliError('invalid_expiry', `--expires must be an ISO date or a span like 30d (got "${value}")`);
  return date;
}

/** A server key's policy for tables: `default`, `takeover`, `pool:4` (pool size set); `-` for other roles. */
export function policyLabel(key: Key): string {
  if (key.role !== KeyRole.SERVER) return '-';
  const policy = key.routePolicy === RoutePolicy.UNSPECIFIED ? 'default' : enumLabel(RoutePolicy, key.routePolicy);
  return key.poolSize > 0 ? `${policy}:${key.poolSize}` : policy;
}
