/** LinkService: list, get and close links. */
import type { LinkService } from '@remoted/sdk/gen/remoted/admin/v1/link_service_pb';
import type { LinkView, RelayAdmin } from '../relay/relay-admin';
import { notFound } from './control-error';
import type { HandlersOf } from './grpc-handlers';
import { paginate } from './pagination';
import { linkName, parseName, parseOptionalName } from './resource-names';
import { linkViewToProto } from './to-proto';

export function linkServiceHandlers(relay: RelayAdmin): HandlersOf<typeof LinkService> {
  const gone = (id: string): Error => notFound(linkName(id), 'it may have closed; list links with ListLinks');
  const found = (id: string, link: LinkView | undefined): LinkView => {
    if (!link) throw gone(id);
    return link;
  };

  return {
    // Cluster mode: every node's links, and the nodes that did not answer in time.
    async listLinks(request) {
      const { views, unanswered } = await relay.linksOfCluster({
        listenerId: parseOptionalName('route', request.route, 'routes'),
        keyId: parseOptionalName('key', request.key, 'keys'),
        path: request.path === '' ? undefined : request.path,
      });
      const page = paginate(views, (link) => link.linkId, request);
      return { links: page.items.map(linkViewToProto), nextPageToken: page.nextPageToken, unansweredNodes: unanswered };
    },

    getLink(request) {
      const id = parseName('name', request.name, 'links');
      return { link: linkViewToProto(found(id, relay.link(id))) };
    },

    closeLink(request) {
      const id = parseName('name', request.name, 'links');
      return { link: linkViewToProto(found(id, relay.closeLink(id))) };
    },
  };
}
