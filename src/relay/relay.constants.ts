/** Injection tokens of the relay module. */
export const ROUTE_REGISTRY = Symbol('remoted:route-registry');
