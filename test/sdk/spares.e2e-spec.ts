/**
 * Spares (docs/protocol.md, listener features) with the SDK against the real
 * relay: a dial is linked to a spare with no notify message on the
 * listener's WebSocket (seen by a TCP tap in front of the relay), used spares
 * are replaced, expired ones too, the relay's grant caps the count, and
 * refused spares (key, path, listener id) leave the listener serving.
 */
import { connect, type Socket } from 'node:net';
import { dial, dialerAddressOf, listen, type RemotedServer, type RouteOpenEvent } from '@remoted/sdk';
import { randomToken } from '@remoted/sdk/protocol';
import { rawRequest, type RawResponse, webRouteHeaders } from '../helpers/raw-http';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { closeServer, listenersOn, sparesHeld } from './listener-helpers';
import { echoConnections, nextEvent, readAll, readUntil } from './sdk-helpers';
import { startTapProxy, type TapProxy } from './tap-proxy';
import { RelayAdmin } from '../../src/relay/relay-admin';

/** No pings either way while we count the WebSocket's bytes: only notify messages could add any. */
const QUIET = { listenerPingIntervalMs: 600_000 };

describe('spares', () => {
  let relay: StartedRelay;
  let tap: TapProxy;
  const servers: RemotedServer[] = [];
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const server of servers.splice(0)) await closeServer(server);
    await tap?.close();
    await relay.close();
  });

  async function start(routes: Partial<StartedRelay['config']['routes']> = {}, sweepIntervalMs?: number): Promise<void> {
    relay = await startRelay({ ...QUIET, routes, ...(sweepIntervalMs === undefined ? {} : { sweepIntervalMs }) });
    tap = await startTapProxy(relay.port);
  }

  /** A listener through the tap (so its WebSocket and spares are counted), echoing every link. */
  async function listener(path: string, spares: number | 'auto' | undefined): Promise<{ server: RemotedServer; open: RouteOpenEvent }> {
    const options = spares === undefined ? { pingIntervalMs: 0 } : { spares, pingIntervalMs: 0 };
    const server = listen(`rws://${relay.keys.server}@127.0.0.1:${tap.port}${path}`, options);
    servers.push(server);
    echoConnections(server);
    const open = await nextEvent<RouteOpenEvent>(server, 'route:open');
    return { server, open };
  }

  async function echoOnce(path: string, text: string): Promise<Socket> {
    const socket = await dial(relay.url('rwr', path), { timeoutMs: 5000 });
    sockets.push(socket);
    socket.end(text);
    expect((await readAll(socket)).toString()).toBe(text);
    return socket;
  }

  it('links a dial to a spare: no notify on the WebSocket, the dialer address from the 101', async () => {
    await start();
    const { server, open } = await listener('/warm', 3);
    expect(open.spares).toBe(3);
    expect(open.listenerId).toMatch(/\S/);
    await waitFor(() => sparesHeld(relay, open.listenerId) === 3, 'the relay holds 3 spares');
    const accepted = nextEvent<Socket>(server, 'connection');
    const before = tap.webSocketBytes();

    const socket = await dial(relay.url('rwr', '/warm'), { timeoutMs: 5000 });
    sockets.push(socket);
    const link = await accepted;
    expect(dialerAddressOf(link)).toBe(`127.0.0.1:${socket.localPort}`);
    socket.end('through a spare');
    expect((await readAll(socket)).toString()).toBe('through a spare');

    expect(tap.webSocketBytes()).toBe(before);
    expect(tap.count('spare', 101)).toBe(1);
    expect(tap.count('webroute')).toBe(0); // no dial-back
  });

  it('keeps 2 spares by default (auto) and links a dial through one, with no notify', async () => {
    await start();
    const { open } = await listener('/default', undefined);
    expect(open.spares).toBe(2);
    await waitFor(() => sparesHeld(relay, open.listenerId) === 2, 'the relay holds 2 spares');
    const before = tap.webSocketBytes();
    await echoOnce('/default', 'fast by default');
    expect(tap.webSocketBytes()).toBe(before);
    expect(tap.count('spare', 101)).toBe(1);
    expect(tap.count('webroute')).toBe(0);
  });

  it('auto: grows with a burst of dials up to the grant, never past it', async () => {
    await start({ sparesPerListener: 6 });
    const { server, open } = await listener('/burst', 'auto');
    await waitFor(() => sparesHeld(relay, open.listenerId) === 2, 'the relay holds the floor of 2');
    await Promise.all(Array.from({ length: 12 }, (_, i) => echoOnce('/burst', `burst ${i}`)));
    // 12 links in one half second: the target is the grant, 6.
    await waitFor(() => sparesHeld(relay, open.listenerId) === 6, 'the relay holds the grant of 6');
    expect(server.spareCount).toBe(6);
    expect(tap.count('spare', 503)).toBe(0);
    // After the burst, dials go through spares again.
    const before = tap.webSocketBytes();
    await echoOnce('/burst', 'after the burst');
    expect(tap.webSocketBytes()).toBe(before);
  });

  it('control: without spares the same dial costs a notify message and a dial-back', async () => {
    await start();
    const { open } = await listener('/cold', 0);
    expect(open.spares).toBe(0);
    const before = tap.webSocketBytes();
    await echoOnce('/cold', 'through a dial-back');
    expect(tap.webSocketBytes()).toBeGreaterThan(before);
    expect(tap.count('webroute', 101)).toBe(1);
    expect(tap.count('spare')).toBe(0);
  });

  it('replaces each spare used, so that dial after dial skips the notify', async () => {
    await start();
    const { open } = await listener('/again', 2);
    await waitFor(() => sparesHeld(relay, open.listenerId) === 2, 'the relay holds 2 spares');
    const before = tap.webSocketBytes();
    for (let i = 0; i < 5; i++) {
      await echoOnce('/again', `dial ${i}`);
      await waitFor(() => sparesHeld(relay, open.listenerId) === 2, `spares back to 2 after dial ${i}`);
    }
    expect(tap.webSocketBytes()).toBe(before);
    expect(tap.count('spare', 101)).toBe(5);
    // 2 at first, 5 replacements, never more in flight than asked for.
    expect(tap.count('spare')).toBe(7);
    expect(tap.count('webroute')).toBe(0);
  });

  it('keeps bytes the dialer sent with its request and bytes right behind the spare\'s 101', async () => {
    await start();
    const { server, open } = await listener('/early', 1);
    await waitFor(() => sparesHeld(relay, open.listenerId) === 1, 'the relay holds a spare');
    const accepted = nextEvent<Socket>(server, 'connection');
    const raw = connect(relay.port, '127.0.0.1');
    sockets.push(raw);
    raw.write(
      `GET /early HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: webroute\r\nWebRoute-Version: 1\r\nWebRoute-ID: ${randomToken()}\r\n` +
        `X-Remoted-Features: early-data\r\nX-Remoted-APIKey: ${relay.keys.client}\r\n\r\nEARLY-BYTES`,
    );
    const link = await accepted;
    sockets.push(link);
    // echoConnections pipes the link to itself: the early bytes come back behind the dialer's 101.
    const answer = (await readUntil(raw, 'EARLY-BYTES')).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    expect(answer.endsWith('\r\n\r\nEARLY-BYTES')).toBe(true);
  });

  it('replaces spares the relay expires (504) and still links at once', async () => {
    await start({ spareMaxAgeSeconds: 1 }, 100);
    const { open } = await listener('/old', 2);
    await waitFor(() => tap.count('spare', 504) >= 2, 'two spares expired', 6000);
    await waitFor(() => sparesHeld(relay, open.listenerId) === 2, 'replaced after expiry');
    expect(tap.count('spare')).toBeGreaterThanOrEqual(4);
    const before = tap.webSocketBytes();
    await echoOnce('/old', 'fresh spare');
    expect(tap.webSocketBytes()).toBe(before);
  });

  it('keeps no more spares than the relay grants', async () => {
    await start({ sparesPerListener: 2 });
    const { server, open } = await listener('/capped', 8);
    expect(open.spares).toBe(2);
    await waitFor(() => sparesHeld(relay, open.listenerId) === 2, 'the relay holds 2 spares');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.spareCount).toBe(2);
    expect(tap.count('spare')).toBe(2);
    expect(tap.count('spare', 503)).toBe(0);
  });

  it('backs off when the path\'s spares are full (503) instead of asking again and again', async () => {
    await start({ policy: 'pool', sparesPerRoute: 3 });
    const first = await listener('/full', 2);
    await waitFor(() => sparesHeld(relay, first.open.listenerId) === 2, 'the first listener holds 2');
    const second = await listener('/full', 2);
    await waitFor(() => sparesHeld(relay, second.open.listenerId) === 1, 'the second gets the one left');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Capped backoff (200 ms, doubling): a handful of refused tries in 1.5 s, not one per round trip.
    expect(tap.count('spare', 503)).toBeGreaterThanOrEqual(1);
    expect(tap.count('spare', 503)).toBeLessThanOrEqual(12);
    expect(sparesHeld(relay, first.open.listenerId) + sparesHeld(relay, second.open.listenerId)).toBe(3);
  });

  it('drops its spares with the WebSocket and opens new ones for the next listener id', async () => {
    await start();
    const { server, open } = await listener('/reopen', 2);
    await waitFor(() => sparesHeld(relay, open.listenerId) === 2, 'the relay holds 2 spares');
    const reopened = nextEvent<RouteOpenEvent>(server, 'route:open', 10_000);
    // The relay drops the listener (as a ping timeout would): its spares go with it.
    for (const route of listenersOn(relay, '/reopen')) relay.app.get(RelayAdmin).closeRoute(route.listenerId, { closeLinks: false });
    const next = await reopened;
    expect(next.listenerId).not.toBe(open.listenerId);
    await waitFor(() => sparesHeld(relay, next.listenerId) === 2, 'spares of the new listener id');
    expect(sparesHeld(relay, open.listenerId)).toBe(0);
    await echoOnce('/reopen', 'after a reconnect');
  });

  describe('refusals (raw spare requests)', () => {
    function spareRequest(path: string, key: string, listenerId: string): Promise<RawResponse> {
      return rawRequest(relay.port, path, { headers: webRouteHeaders(key, randomToken(), { 'X-Remoted-Spare': listenerId }), timeoutMs: 3000 });
    }

    it('refuses a wrong key, a path the key does not listen on, another path\'s or key\'s listener id', async () => {
      await start();
      const { open } = await listener('/a', 1);
      const { open: openB } = await listener('/b', 1);
      const id = open.listenerId ?? '';
      await waitFor(() => sparesHeld(relay, id) === 1 && sparesHeld(relay, openB.listenerId) === 1, 'spares held');

      const answers = {
        unknownKey: await spareRequest('/a', randomToken(), id),
        pathNobodyListensOn: await spareRequest('/nobody', relay.keys.server, id),
        otherPathsListenerId: await spareRequest('/b', relay.keys.server, id),
        unknownListenerId: await spareRequest('/a', relay.keys.server, 'lsn_unknown'),
        otherServerKey: await spareRequest('/a', (await relay.store.create({ role: 'server' })).secret, id),
      };
      for (const response of Object.values(answers)) response.socket.destroy();
      const statuses = Object.fromEntries(Object.entries(answers).map(([name, response]) => [name, response.status]));
      expect(statuses).toEqual({
        unknownKey: 403,
        pathNobodyListensOn: 400,
        otherPathsListenerId: 400,
        unknownListenerId: 400,
        otherServerKey: 400,
      });
      expect(JSON.parse(answers.otherPathsListenerId.body)).toMatchObject({ success: false, errorcode: 'invalid_request' });

      // The listeners are untouched: still one spare each, and a dial still goes through one.
      expect(sparesHeld(relay, id)).toBe(1);
      expect(sparesHeld(relay, openB.listenerId)).toBe(1);
      const before = tap.webSocketBytes();
      await echoOnce('/a', 'still served');
      expect(tap.webSocketBytes()).toBe(before);
    });

    it('refuses a spare with a client key (403), and links no dial to it', async () => {
      await start();
      const { server, open } = await listener('/c', 1);
      await waitFor(() => sparesHeld(relay, open.listenerId) === 1, 'a spare held');
      let accepted = 0;
      server.on('connection', () => (accepted += 1));
      // docs/protocol.md, spares: "403 when it is not a server key valid for the path", not a dial in disguise.
      const response = await spareRequest('/c', relay.keys.client, open.listenerId ?? '');
      response.socket.destroy();
      expect(response.status).toBe(403);
      expect(accepted).toBe(0);
      expect(sparesHeld(relay, open.listenerId)).toBe(1);
    });

    it('refuses spares for a listener that did not ask for them', async () => {
      await start();
      const { open } = await listener('/plain', 0);
      expect(open.listenerId).toMatch(/\S/);
      const response = await spareRequest('/plain', relay.keys.server, open.listenerId ?? '');
      response.socket.destroy();
      expect(response.status).toBe(400);
    });
  });
});
