/** RouteService: list, get, drain and close routes (one listener connection each). */
import { CloseRouteMode, type RouteService } from '@remoted/sdk/gen/remoted/admin/v1/route_service_pb';
import { MAX_CLOSE_REASON_BYTES } from '@remoted/sdk/protocol';
import type { RouteListener, RouteRegistry } from '../relay/route-registry';
import type { ConnectionCloser } from './connection-closer';
import { failedPrecondition, invalidArgument, notFound } from './control-error';
import type { HandlersOf } from './grpc-handlers';
import { paginate } from './pagination';
import { parseName, parseOptionalName, routeName } from './resource-names';
import { listenerToProto, routeCounters, type RouteInit } from './to-proto';

export function routeServiceHandlers(registry: RouteRegistry, closer: ConnectionCloser): HandlersOf<typeof RouteService> {
  const view = (listener: RouteListener): RouteInit => listenerToProto(listener, routeCounters(registry).get(listener.id));

  /** The one listener of a path; a path that several share needs a route name instead. */
  const onlyListenerOn = (path: string): RouteListener => {
    const listeners = registry.listenersOn(checkedPath('path', path));
    if (listeners.length === 0) throw notFound(`route on path ${path}`, 'no listener holds it now');
    if (listeners.length > 1) {
      const names = listeners.map((l) => routeName(l.id)).join(', ');
      throw failedPrecondition(`path ${path} has ${listeners.length} listeners (${names}); name one of them instead of the path`);
    }
    return listeners[0];
  };

  /** The route a request names by exactly one of name and path. */
  const find = (request: { name: string; path: string }): RouteListener => {
    if ((request.name === '') === (request.path === '')) {
      throw invalidArgument('name', 'set exactly one of name (routes/lsn_…) and path (/db/primary)');
    }
    if (request.path !== '') return onlyListenerOn(request.path);
    const id = parseName('name', request.name, 'routes');
    const listener = registry.findListener(id);
    if (!listener) throw notFound(routeName(id), 'its listener may have gone; list routes with ListRoutes');
    return listener;
  };

  return {
    listRoutes(request) {
      const keyId = parseOptionalName('key', request.key, 'keys');
      const onPath = request.path === '' ? registry.listeners() : registry.listenersOn(checkedPath('path', request.path));
      const listeners = [...onPath].filter((l) => keyId === undefined || l.keyId === keyId);
      // Path first, then id: the listeners of one path stay together and the page token stays exact.
      const page = paginate(listeners, (l) => `${l.path}\u0000${l.id}`, request);
      const counters = routeCounters(registry);
      return {
        routes: page.items.map((l) => listenerToProto(l, counters.get(l.id))),
        nextPageToken: page.nextPageToken,
      };
    },

    getRoute(request) {
      return { route: view(find(request)) };
    },

    closeRoute(request) {
      const mode = closeMode(request.mode);
      const reason = checkedCloseReason(request.reason);
      const listener = find(request);
      const route = view(listener);
      const closedLinks = closer.closeRoute(listener, { closeLinks: request.closeLinks, forGood: mode === CloseRouteMode.FOR_GOOD, reason });
      return { route, closedLinks, mode };
    },

    drainRoute(request) {
      const listener = find(request);
      // False when it was draining already: the call is idempotent, the route is returned as it is.
      listener.drain('operator');
      return { route: view(listener) };
    },
  };
}

function checkedPath(field: string, path: string): string {
  if (!path.startsWith('/')) throw invalidArgument(field, `"${path}" is not a path; paths start with "/", e.g. /db/primary`);
  return path;
}

/** UNSPECIFIED is a kick; an unknown number is refused rather than guessed. */
function closeMode(mode: CloseRouteMode): CloseRouteMode.KICK | CloseRouteMode.FOR_GOOD {
  if (mode === CloseRouteMode.UNSPECIFIED || mode === CloseRouteMode.KICK) return CloseRouteMode.KICK;
  if (mode === CloseRouteMode.FOR_GOOD) return CloseRouteMode.FOR_GOOD;
  throw invalidArgument('mode', `unknown mode ${mode}; use CLOSE_ROUTE_MODE_KICK or CLOSE_ROUTE_MODE_FOR_GOOD`);
}

/** The reason goes in a WebSocket close frame: one line, bounded in bytes. */
function checkedCloseReason(reason: string): string {
  if (/[\u0000-\u001f\u007f]/.test(reason)) throw invalidArgument('reason', 'must be one line without control characters');
  const bytes = Buffer.byteLength(reason);
  if (bytes > MAX_CLOSE_REASON_BYTES) throw invalidArgument('reason', `is ${bytes} bytes of UTF-8; at most ${MAX_CLOSE_REASON_BYTES}`);
  return reason;
}
