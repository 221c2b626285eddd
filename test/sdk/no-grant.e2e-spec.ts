/**
 * The SDK before a relay that grants no listener feature (as the original PHP
 * relay): a tap in front of our relay deletes X-Remoted-Features from the
 * listener's upgrade. The listener then works exactly as before: no spares,
 * notify and dial-back; drain() gives the route back at once and waits for
 * its links; a dial its openTarget cannot ready is dialed back and closed at
 * once, since such a relay cannot be told to refuse it.
 */
import type { Socket } from 'node:net';
import { dial, type DialRefusedEvent, listen, type RemotedServer, type RouteOpenEvent } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { closeServer, type HashingApp, hashingApp, listenersOn, sha256 } from './listener-helpers';
import { nextEvent, readAll } from './sdk-helpers';
import { startTapProxy, type TapProxy } from './tap-proxy';

describe('a relay that grants nothing', () => {
  let relay: StartedRelay;
  let tap: TapProxy;
  const servers: Array<{ server: RemotedServer; app: HashingApp }> = [];
  const sockets: Socket[] = [];

  beforeEach(async () => {
    relay = await startRelay();
    tap = await startTapProxy(relay.port, { stripFeatures: true });
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const { server, app } of servers.splice(0)) await closeServer(server, app);
    await tap.close();
    await relay.close();
  });

  async function listener(path: string, spares: number): Promise<{ server: RemotedServer; app: HashingApp; open: RouteOpenEvent }> {
    const server = listen(`rws://${relay.keys.server}@127.0.0.1:${tap.port}${path}`, { spares });
    const app = hashingApp(server);
    servers.push({ server, app });
    const open = await nextEvent<RouteOpenEvent>(server, 'route:open');
    return { server, app, open };
  }

  it('asks for spares, gets none, and serves by notify and dial-back', async () => {
    const { server, open } = await listener('/old', 4);
    expect(open).toMatchObject({ spares: 0, listenerId: undefined });
    expect(listenersOn(relay, '/old')[0]?.features).toEqual([]);
    const socket = await dial(relay.url('rwr', '/old'), { timeoutMs: 5000 });
    sockets.push(socket);
    socket.end('plain');
    expect((await readAll(socket)).toString()).toBe(sha256('plain'));
    expect(tap.count('spare')).toBe(0);
    expect(tap.count('webroute', 101)).toBe(1);
    expect(server.spareCount).toBe(0);
  });

  it('drain(): the route is given back at once, the open link finishes, then close', async () => {
    const { server, app } = await listener('/old', 0);
    const transfer = await dial(relay.url('rwr', '/old'), { timeoutMs: 5000 });
    sockets.push(transfer);
    const digest = readAll(transfer).then((data) => data.toString());
    transfer.write('begun before, ');
    await waitFor(() => app.accepted === 1, 'the link is up');

    let drained = false;
    const draining = server.drain().then(() => (drained = true));
    await waitFor(() => listenersOn(relay, '/old').length === 0, 'the route is given back');
    // The path is free for the next instance at once, exclusive policy or not.
    const next = await listener('/old', 0);
    const socket = await dial(relay.url('rwr', '/old'), { timeoutMs: 5000 });
    sockets.push(socket);
    socket.end('to the next');
    expect((await readAll(socket)).toString()).toBe(sha256('to the next'));
    expect(next.app.accepted).toBe(1);
    expect(drained).toBe(false);

    transfer.end('ended after');
    expect(await digest).toBe(sha256('begun before, ended after'));
    await draining;
    expect(app.accepted).toBe(1);
  });

  it('openTarget fails: no refuse frame to a relay that did not grant it; the link is made and closed at once', async () => {
    const server = listen(`rws://${relay.keys.server}@127.0.0.1:${tap.port}/old-down`, { openTarget: () => Promise.reject(new Error('down')) });
    let connections = 0;
    server.on('connection', () => connections++);
    await nextEvent(server, 'listening');
    try {
      expect(listenersOn(relay, '/old-down')[0]?.features).toEqual([]);
      const refused = nextEvent<DialRefusedEvent>(server, 'dial:refused');
      const socket = await dial(relay.url('rwr', '/old-down'), { timeoutMs: 5000 });
      sockets.push(socket);
      expect(await refused).toMatchObject({ told: false });
      expect((await readAll(socket)).length).toBe(0);
      expect(tap.count('webroute', 101)).toBe(1);
      expect(connections).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
