/**
 * The takeover policy with the SDK: a new listener with the same key replaces
 * the old one, which gets 'error' with code 'replaced' and does not come back
 * (two instances would take the path from each other forever); its live link
 * keeps working, and new dials go to the new listener.
 */
import type { Socket } from 'node:net';
import { dial, listen, RemotedError, type RemotedServer, type RouteOpenEvent, type RouteRetryEvent } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { closeServer, type HashingApp, hashingApp, listenersOn, sha256 } from './listener-helpers';
import { nextEvent, readAll } from './sdk-helpers';

describe('takeover', () => {
  let relay: StartedRelay;
  const servers: Array<{ server: RemotedServer; app: HashingApp }> = [];
  const sockets: Socket[] = [];

  beforeEach(async () => {
    relay = await startRelay({ routes: { policy: 'takeover' } });
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const { server, app } of servers.splice(0)) await closeServer(server, app);
    await relay.close();
  });

  async function listener(path: string, spares = 0): Promise<{ server: RemotedServer; app: HashingApp; open: RouteOpenEvent }> {
    // Quick reconnects: were the replaced listener to come back, it would within the test.
    const server = listen(relay.url('rws', path), { spares, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const app = hashingApp(server);
    servers.push({ server, app });
    const open = await nextEvent<RouteOpenEvent>(server, 'route:open');
    return { server, app, open };
  }

  it('the old listener gets error code replaced and stays away; its link lives on; the new one serves', async () => {
    const old = await listener('/svc', 2);
    const retries: RouteRetryEvent[] = [];
    old.server.on('route:retry', (e: RouteRetryEvent) => retries.push(e));
    const link = await dial(relay.url('rwr', '/svc'), { timeoutMs: 5000 });
    sockets.push(link);
    const digest = readAll(link).then((data) => data.toString());
    link.write('half from before, ');
    await waitFor(() => old.app.accepted === 1, 'the link is the old listener\'s');

    const error = nextEvent<Error>(old.server, 'error');
    const closed = nextEvent(old.server, 'close');
    const fresh = await listener('/svc', 2);
    const err = await error;
    expect(err).toBeInstanceOf(RemotedError);
    expect((err as RemotedError).code).toBe('replaced');
    await closed;
    expect(old.server.listening).toBe(false);

    for (let i = 0; i < 3; i++) {
      const socket = await dial(relay.url('rwr', '/svc'), { timeoutMs: 5000 });
      sockets.push(socket);
      socket.end(`new ${i}`);
      expect((await readAll(socket)).toString()).toBe(sha256(`new ${i}`));
    }
    expect(fresh.app.accepted).toBe(3);
    expect(old.app.accepted).toBe(1);

    link.end('half from after');
    expect(await digest).toBe(sha256('half from before, half from after'));

    // Still the new listener's path a while later: the old one did not come back to take it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(retries).toEqual([]);
    expect(listenersOn(relay, '/svc').map((l) => l.listenerId)).toEqual([fresh.open.listenerId]);
    expect(fresh.server.listening).toBe(true);
  });
});
