/**
 * The relay behind Debian's nginx, as docs/deployment.md sets it up: a
 * listener and a dialer reach it through nginx, they are linked, and the
 * listener is told the dialer's own address (X-Forwarded-For from a trusted
 * proxy), not nginx's. Skipped only where nginx is missing and CI is not set.
 */
import type { Socket } from 'node:net';
import { connectTo, readBytes, webRouteHeaders } from '../helpers/raw-http';
import { describeWithNginx, type StartedNginx, startNginx } from '../helpers/nginx';
import { TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { connectFrom, requestOn } from './ops-helpers';
import { nginxTestConfig } from './nginx-config';

describeWithNginx('nginx e2e')('behind nginx', () => {
  let relay: StartedRelay;
  let nginx: StartedNginx | undefined;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    relay = await startRelay({ trustedProxies: '127.0.0.1' });
    nginx = await startNginx(({ dir, port: listenPort }) => nginxTestConfig({ dir, listenPort, relayPort: relay.port }));
    port = nginx.port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await nginx?.stop();
    await relay?.close();
  });

  it('links a dialer and a listener through nginx, telling the listener the dialer address', async () => {
    const listener = await TestListener.open(port, '/through-nginx', relay.keys.server);
    // The dialer comes from 127.0.0.2; nginx (127.0.0.1, trusted) forwards it.
    const dialSocket = await connectFrom(port, '127.0.0.2');
    sockets.push(dialSocket);
    const dialed = requestOn(dialSocket, '/through-nginx', webRouteHeaders(relay.keys.client));
    const notice = await listener.nextNotice();
    expect(notice.ipaddr).toBe('127.0.0.2:0');

    const backSocket = await connectTo(port);
    sockets.push(backSocket);
    const back = await requestOn(backSocket, '/through-nginx', webRouteHeaders(relay.keys.server, notice.id));
    const dial = await dialed;
    expect([dial.status, back.status]).toEqual([101, 101]);

    dialSocket.write('ping through nginx');
    expect((await readBytes(backSocket, 18, back.rest)).toString()).toBe('ping through nginx');
    backSocket.write('pong');
    expect((await readBytes(dialSocket, 4, dial.rest)).toString()).toBe('pong');
    await listener.close();
  });

  it('passes refusals through unchanged', async () => {
    const dialSocket = await connectTo(port);
    sockets.push(dialSocket);
    const refused = await requestOn(dialSocket, '/nobody', webRouteHeaders(relay.keys.client));
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.body)).toMatchObject({ errorcode: 'missing_destination' });
  });
});
