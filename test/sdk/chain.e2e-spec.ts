/** A chained dial string: the second hop is requested through the link of the first, across two relays. */
import { connect, type Socket } from 'node:net';
import { dialChain, listen, RemotedError, type RemotedServer } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { echoConnections, nextEvent, readAll } from './sdk-helpers';

describe('chained dial through two relays', () => {
  let outer: StartedRelay;
  let inner: StartedRelay;
  let echo: RemotedServer;
  let hop: RemotedServer;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    outer = await startRelay();
    inner = await startRelay();
    // Behind the inner relay: an echo service.
    echo = listen(inner.url('rws', '/echo'));
    echoConnections(echo, sockets);
    // Behind the outer relay: a plain TCP forward to the inner relay's port.
    hop = listen(outer.url('rws', '/to-inner'));
    hop.on('connection', (link: Socket) => {
      const upstream = connect({ host: '127.0.0.1', port: inner.port, allowHalfOpen: true });
      sockets.add(link);
      sockets.add(upstream);
      link.on('error', () => upstream.destroy());
      upstream.on('error', () => link.destroy());
      link.pipe(upstream).pipe(link);
    });
    await Promise.all([nextEvent(echo, 'listening'), nextEvent(hop, 'listening')]);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([echo, hop].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await Promise.all([outer.close(), inner.close()]);
  });

  it('links end to end and gives back the application URL', async () => {
    const dialString = `${outer.url('rwr', '/to-inner')}  ${inner.url('rwr', '/echo')} https://app.example/x`;
    const { socket, applicationUrl } = await dialChain(dialString);
    expect(applicationUrl).toBe('https://app.example/x');
    socket.end('through two relays');
    expect((await readAll(socket)).toString()).toBe('through two relays');
  });

  it("a refusal by the second relay is the second relay's RemotedError", async () => {
    const err = await dialChain(`${outer.url('rwr', '/to-inner')} ${inner.url('rwr', '/missing')}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemotedError);
    expect((err as RemotedError).code).toBe('missing_destination');
    // The first hop's key is not good on the second relay.
    const refused = await dialChain(`${outer.url('rwr', '/to-inner')} ${inner.url('rwr', '/echo', outer.keys.client)}`).catch((e: unknown) => e);
    expect((refused as RemotedError).code).toBe('invalid_missing_apikey');
  });
});
