/** LinkService: list, get and close links. */
import type { LinkService } from '@remoted/sdk/gen/remoted/admin/v1/link_service_pb';
import type { Link } from '../relay/link';
import type { RouteRegistry } from '../relay/route-registry';
import { notFound } from './control-error';
import type { HandlersOf } from './grpc-handlers';
import { paginate } from './pagination';
import { linkName, parseName, parseOptionalName } from './resource-names';
import { linkToProto } from './to-proto';

export function linkServiceHandlers(registry: RouteRegistry): HandlersOf<typeof LinkService> {
  const find = (name: string): Link => {
    const id = parseName('name', name, 'links');
    const link = registry.findLink(id);
    if (!link) throw notFound(linkName(id), 'it may have closed; list links with ListLinks');
    return link;
  };

  return {
    listLinks(request) {
      const routeId = parseOptionalName('route', request.route, 'routes');
      const keyId = parseOptionalName('key', request.key, 'keys');
      const links = [...registry.links()].filter((link) => {
        const s = link.snapshot();
        return (
          (routeId === undefined || s.listenerId === routeId) &&
          (request.path === '' || s.path === request.path) &&
          (keyId === undefined || s.dialerKeyId === keyId || s.listenerKeyId === keyId)
        );
      });
      const page = paginate(links, (link) => link.id, request);
      const now = Date.now();
      return { links: page.items.map((link) => linkToProto(link, now)), nextPageToken: page.nextPageToken };
    },

    getLink(request) {
      return { link: linkToProto(find(request.name), Date.now()) };
    },

    closeLink(request) {
      const link = find(request.name);
      const view = linkToProto(link, Date.now());
      link.destroy('forced');
      return { link: view };
    },
  };
}
