import type { AdminClient } from '@remoted/sdk/admin';
import type { Event } from '@remoted/sdk/gen/remoted/admin/v1/event_service_pb';
import { KeyRole } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { LinkCloseReason } from '@remoted/sdk/gen/remoted/admin/v1/link_pb';
import { RouteCloseReason } from '@remoted/sdk/gen/remoted/admin/v1/route_pb';
import { readAll, readBytes } from '../helpers/raw-http';
import { linkedSocket, makeLink, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { adminClientFor } from './control-helpers';

describe('control plane: Watch', () => {
  let relay: StartedRelay;
  let admin: AdminClient;

  beforeEach(async () => {
    relay = await startRelay();
    admin = adminClientFor(relay);
  });
  afterEach(async () => {
    admin.close();
    await relay.close();
  });

  /** Collects `count` events from the stream, or fails after timeoutMs. */
  async function take(stream: AsyncIterable<Event>, count: number, timeoutMs = 5000): Promise<Event[]> {
    const events: Event[] = [];
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`got ${events.length} of ${count} events: ${kinds(events)}`)), timeoutMs).unref());
    const collect = (async () => {
      for await (const event of stream) {
        events.push(event);
        if (events.length === count) break;
      }
      return events;
    })();
    return Promise.race([collect, timer]);
  }

  const kinds = (events: Event[]): string => events.map((e) => e.kind.case).join(', ');

  it('delivers the events of a scripted sequence in order', async () => {
    const watch = admin.watch();
    await watch.ready;
    const collected = take(watch, 6);

    const { secret, key } = await admin.keys.createKey({ role: KeyRole.CLIENT, label: 'watched' });
    const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
    const pair = await makeLink(relay.port, '/svc', listener, { server: relay.keys.server, client: secret });
    const dialer = linkedSocket(pair.dialer);
    const server = linkedSocket(pair.listenerSide);
    dialer.end('request');
    expect((await readBytes(server, 7)).toString()).toBe('request');
    const rest = readAll(dialer);
    server.end('response!');
    expect((await rest).toString()).toBe('response!');
    await listener.close();
    await admin.keys.revokeKey({ name: key!.name });

    const events = await collected;
    expect(kinds(events)).toBe('keyCreated, routeOpened, linkOpened, linkClosed, routeClosed, keyRevoked');
    const sequences = events.map((e) => e.sequence);
    for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBe(sequences[i - 1] + 1n);

    const [created, routeOpened, linkOpened, linkClosed, routeClosed, revoked] = events.map((e) => e.kind);
    expect(created).toMatchObject({ case: 'keyCreated', value: { key: { name: key!.name, label: 'watched' } } });
    expect(routeOpened).toMatchObject({ case: 'routeOpened', value: { route: { path: '/svc' } } });
    expect(linkOpened).toMatchObject({ case: 'linkOpened', value: { link: { path: '/svc', dialerKey: key!.name } } });
    expect(linkClosed).toMatchObject({
      case: 'linkClosed',
      value: { reason: LinkCloseReason.CLOSED, link: { bytesToListener: 7n, bytesToDialer: 9n } },
    });
    expect(routeClosed).toMatchObject({ case: 'routeClosed', value: { reason: RouteCloseReason.LISTENER_CLOSED, route: { path: '/svc' } } });
    expect(revoked).toMatchObject({ case: 'keyRevoked', value: { key: { name: key!.name } } });
  });

  it('reports forced closes with their reason, to every watcher', async () => {
    const first = admin.watch();
    const second = admin.watch();
    await Promise.all([first.ready, second.ready]);
    const collected = Promise.all([take(first, 2), take(second, 2)]);
    const listener = await TestListener.open(relay.port, '/forced', relay.keys.server);
    await admin.routes.closeRoute({ path: '/forced' });
    const [a, b] = await collected;
    expect(a).toEqual(b);
    expect(a[1].kind).toMatchObject({ case: 'routeClosed', value: { reason: RouteCloseReason.FORCED } });
    await listener.close();
  });
});
