/**
 * One ordered stream of the relay's events for every Watch call. Relay and
 * key events arrive synchronously from their emitters; each gets the next
 * sequence number and goes to every watcher in that order. A route that is
 * still registered is shown with its listener's state and policy; a closed
 * one only as its event's snapshot.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import type { EventSchema } from '@remoted/sdk/gen/remoted/admin/v1/event_service_pb';
import { RouteState } from '@remoted/sdk/gen/remoted/admin/v1/route_pb';
import type { ApiKey } from '../keys/api-key';
import { type LinkSnapshot, type RelayEventMap, type RelayEvents, type RouteSnapshot, subscribe } from '../relay/context/relay-events';
import type { RelayAdmin } from '../relay/relay-admin';
import type { KeyEvents } from './key-events';
import { drainedByToProto, linkCloseReasonToProto, routeCloseReasonToProto } from './proto-enums';
import { routeName } from './resource-names';
import { keyToProto, linkSnapshotToProto, routeViewToProto, routeToProto, type RouteInit } from './to-proto';

export type EventInit = MessageInitShape<typeof EventSchema>;
type EventKind = NonNullable<EventInit['kind']>;
export type Watcher = (event: EventInit) => void;

export class EventHub {
  private sequence = 0;
  private readonly watchers = new Set<Watcher>();
  private stopRelayEvents: (() => void) | undefined;

  constructor(
    private readonly relayEvents: RelayEvents,
    private readonly keyEvents: KeyEvents,
    private readonly relay: RelayAdmin,
  ) {}

  start(): void {
    this.stopRelayEvents = subscribe(this.relayEvents, {
      'route:open': this.onRouteOpen,
      'route:close': this.onRouteClose,
      'route:drain': this.onRouteDrain,
      'dialback:slow': this.onSlowDialback,
      'link:open': this.onLinkOpen,
      'link:close': this.onLinkClose,
    });
    this.keyEvents.on('key:create', this.onKeyCreate);
    this.keyEvents.on('key:revoke', this.onKeyRevoke);
  }

  stop(): void {
    this.stopRelayEvents?.();
    this.stopRelayEvents = undefined;
    this.keyEvents.off('key:create', this.onKeyCreate);
    this.keyEvents.off('key:revoke', this.onKeyRevoke);
  }

  /** Registers a watcher; the returned function unregisters it. */
  subscribe(watcher: Watcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** `kind` is built only when someone watches: links open and close at thousands a second. */
  private publish(kind: () => EventKind): void {
    // Numbered even with no watcher, so a sequence gap always means a drop.
    const sequence = BigInt(++this.sequence);
    if (this.watchers.size === 0) return;
    const event: EventInit = { sequence, time: timestampNow(), kind: kind() };
    for (const watcher of [...this.watchers]) watcher(event);
  }

  /** The live listener's view when it is still registered (no registry-wide counting per event). */
  private liveRoute(route: RouteSnapshot): RouteInit | undefined {
    const live = this.relay.route(route.listenerId, { counters: false });
    return live ? routeViewToProto(live) : undefined;
  }

  private readonly onRouteOpen = (route: RouteSnapshot): void =>
    this.publish(() => ({ case: 'routeOpened', value: { route: this.liveRoute(route) ?? routeToProto(route) } }));

  private readonly onRouteDrain = (route: RelayEventMap['route:drain'][0]): void =>
    this.publish(() => ({
      case: 'routeDrainStarted',
      value: { route: this.liveRoute(route) ?? { ...routeToProto(route), state: RouteState.DRAINING }, by: drainedByToProto(route.by) },
    }));

  private readonly onSlowDialback = (slow: RelayEventMap['dialback:slow'][0]): void =>
    this.publish(() => ({ case: 'slowDialback', value: { route: routeName(slow.listenerId), path: slow.path } }));

  private readonly onRouteClose = (route: RelayEventMap['route:close'][0]): void =>
    this.publish(() => ({ case: 'routeClosed', value: { route: routeToProto(route), reason: routeCloseReasonToProto(route.reason) } }));

  private readonly onLinkOpen = (link: LinkSnapshot): void =>
    this.publish(() => ({ case: 'linkOpened', value: { link: linkSnapshotToProto(link) } }));

  private readonly onLinkClose = (link: RelayEventMap['link:close'][0]): void =>
    this.publish(() => ({ case: 'linkClosed', value: { link: linkSnapshotToProto(link), reason: linkCloseReasonToProto(link.reason) } }));

  private readonly onKeyCreate = (key: ApiKey): void => this.publish(() => ({ case: 'keyCreated', value: { key: keyToProto(key) } }));

  private readonly onKeyRevoke = (key: ApiKey): void => this.publish(() => ({ case: 'keyRevoked', value: { key: keyToProto(key) } }));
}
