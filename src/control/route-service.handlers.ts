/** RouteService: list, get and close routes (a path's listener). */
import type { RouteService } from '@remoted/sdk/gen/remoted/admin/v1/route_service_pb';
import type { RouteListener, RouteRegistry } from '../relay/route-registry';
import type { ConnectionCloser } from './connection-closer';
import { invalidArgument, notFound } from './control-error';
import type { HandlersOf } from './grpc-handlers';
import { paginate } from './pagination';
import { parseName, parseOptionalName, routeName } from './resource-names';
import { routeCounters, routeSnapshotOf, routeToProto, type RouteInit } from './to-proto';

export function routeServiceHandlers(registry: RouteRegistry, closer: ConnectionCloser): HandlersOf<typeof RouteService> {
  const view = (listener: RouteListener): RouteInit => routeToProto(routeSnapshotOf(listener), routeCounters(registry).get(listener.id));

  /** The route a request names by exactly one of name and path. */
  const find = (request: { name: string; path: string }): RouteListener => {
    if ((request.name === '') === (request.path === '')) {
      throw invalidArgument('name', 'set exactly one of name (routes/lsn_…) and path (/db/primary)');
    }
    if (request.path !== '') {
      const listener = registry.findListener(request.path);
      if (!listener) throw notFound(`route on path ${request.path}`, 'no listener holds it now');
      return listener;
    }
    const id = parseName('name', request.name, 'routes');
    const listener = [...registry.listeners()].find((l) => l.id === id);
    if (!listener) throw notFound(routeName(id), 'its listener may have gone; list routes with ListRoutes');
    return listener;
  };

  return {
    listRoutes(request) {
      const keyId = parseOptionalName('key', request.key, 'keys');
      const listeners = [...registry.listeners()].filter((l) => keyId === undefined || l.keyId === keyId);
      const page = paginate(listeners, (l) => l.path, request);
      const counters = routeCounters(registry);
      return {
        routes: page.items.map((l) => routeToProto(routeSnapshotOf(l), counters.get(l.id))),
        nextPageToken: page.nextPageToken,
      };
    },

    getRoute(request) {
      return { route: view(find(request)) };
    },

    closeRoute(request) {
      const listener = find(request);
      const route = view(listener);
      const closedLinks = closer.closeRoute(listener, request.closeLinks);
      return { route, closedLinks };
    },
  };
}
