/** RouteService: list, get, drain and close routes (one listener connection each). */
import { CloseRouteMode, type RouteService } from '@remoted/sdk/gen/remoted/admin/v1/route_service_pb';
import { MAX_CLOSE_REASON_BYTES } from '@remoted/sdk/wire/protocol';
import type { RelayAdmin, RouteView } from '../relay/relay-admin';
import { failedPrecondition, invalidArgument, notFound } from './control-error';
import type { HandlersOf } from './grpc-handlers';
import { paginate } from './pagination';
import { parseName, parseOptionalName, routeName } from './resource-names';
import { routeViewToProto } from './to-proto';

export function routeServiceHandlers(relay: RelayAdmin): HandlersOf<typeof RouteService> {
  /** The one listener of a path; a path that several share needs a route name instead. */
  const onlyListenerOn = (path: string): string => {
    const routes = relay.routes({ path: checkedPath('path', path) });
    if (routes.length === 0) throw notFound(`route on path ${path}`, 'no listener holds it now');
    if (routes.length > 1) {
      const names = routes.map((r) => routeName(r.listenerId)).join(', ');
      throw failedPrecondition(`path ${path} has ${routes.length} listeners (${names}); name one of them instead of the path`);
    }
    return routes[0].listenerId;
  };

  /** The listener id of the route a request names by exactly one of name and path. */
  const find = (request: { name: string; path: string }): string => {
    if ((request.name === '') === (request.path === '')) {
      throw invalidArgument('name', 'set exactly one of name (routes/lsn_…) and path (/db/primary)');
    }
    return request.path !== '' ? onlyListenerOn(request.path) : parseName('name', request.name, 'routes');
  };

  /** Between the lookup and the answer the listener may have gone (its socket closed). */
  const found = <T>(id: string, answer: T | undefined): T => {
    if (answer === undefined) throw notFound(routeName(id), 'its listener may have gone; list routes with ListRoutes');
    return answer;
  };

  return {
    // Cluster mode: every node's listeners, and the nodes that did not answer in time.
    async listRoutes(request) {
      const { views, unanswered } = await relay.routesOfCluster({
        path: request.path === '' ? undefined : checkedPath('path', request.path),
        keyId: parseOptionalName('key', request.key, 'keys'),
      });
      // Path first, then id: the listeners of one path stay together and the page token stays exact.
      const page = paginate(views, (r: RouteView) => `${r.path}\u0000${r.listenerId}`, request);
      return { routes: page.items.map(routeViewToProto), nextPageToken: page.nextPageToken, unansweredNodes: unanswered };
    },

    getRoute(request) {
      const id = find(request);
      return { route: routeViewToProto(found(id, relay.route(id))) };
    },

    closeRoute(request) {
      const mode = closeMode(request.mode);
      const reason = checkedCloseReason(request.reason);
      const id = find(request);
      const { route, closedLinks } = found(id, relay.closeRoute(id, { closeLinks: request.closeLinks, forGood: mode === CloseRouteMode.FOR_GOOD, reason }));
      return { route: routeViewToProto(route), closedLinks, mode };
    },

    drainRoute(request) {
      const id = find(request);
      // Idempotent: a route that was draining already is returned as it is.
      return { route: routeViewToProto(found(id, relay.drainRoute(id))) };
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
