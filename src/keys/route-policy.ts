/**
 * What a second listener on a held path gets (docs/protocol.md, route
 * policies): a key attribute, with the relay's default when unset.
 */
export const ROUTE_POLICIES = ['exclusive', 'takeover', 'pool'] as const;
export type RoutePolicy = (typeof ROUTE_POLICIES)[number];

export function isRoutePolicy(value: string): value is RoutePolicy {
  return (ROUTE_POLICIES as readonly string[]).includes(value);
}

/**
 * The largest pool size a key may carry: the bound REMOTED_POOL_SIZE has, so
 * a key never asks for more than the relay-wide setting could.
 */
export const MAX_POOL_SIZE = 10_000;
