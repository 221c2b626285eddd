/** rwss:// and rwrs://: TLS to the relay (here a TLS front that passes bytes to the relay), also inside a chain. */
import { connect, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { dial, dialerAddressOf, listen, type RemotedServer } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { echoConnections, nextEvent, readAll, selfSignedCert } from './sdk-helpers';

describe('TLS to the relay', () => {
  let relay: StartedRelay;
  let front: TlsServer;
  let frontPort: number;
  const { key, cert } = selfSignedCert('relay.test');
  const sockets = new Set<Socket>();
  const servers: RemotedServer[] = [];
  const raws: Socket[] = [];

  function track(socket: Socket): Socket {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    return socket;
  }

  beforeAll(async () => {
    relay = await startRelay();
    front = createTlsServer({ key, cert, allowHalfOpen: true }, (clear) => {
      const upstream = track(connect({ host: '127.0.0.1', port: relay.port, allowHalfOpen: true }));
      track(clear);
      clear.on('error', () => upstream.destroy());
      upstream.on('error', () => clear.destroy());
      clear.pipe(upstream).pipe(clear);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    frontPort = (front.address() as { port: number }).port;
    front.on('connection', (raw: Socket) => raws.push(raw));
    const echo = listen(`rwss://${relay.keys.server}@127.0.0.1:${frontPort}/tls-echo`, { tls: { ca: cert } });
    servers.push(echo);
    echoConnections(echo, sockets);
    await nextEvent(echo, 'listening');
  });
  afterAll(async () => {
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const s of sockets) s.destroy();
    // The front is half-open capable: a client that gave up during the handshake leaves its socket open.
    for (const raw of raws) raw.destroy();
    await new Promise<void>((resolve) => front.close(() => resolve()));
    await relay.close();
  });

  it('rwss listener and rwrs dialer, certificate checked against the IP', async () => {
    const socket = await dial(`rwrs://${relay.keys.client}@127.0.0.1:${frontPort}/tls-echo`, { tls: { ca: cert } });
    expect(socket.constructor.name).toBe('TLSSocket');
    socket.end('secret bytes');
    expect((await readAll(socket)).toString()).toBe('secret bytes');
  });

  it('an untrusted relay certificate fails the dial with the TLS error', async () => {
    await expect(dial(`rwrs://${relay.keys.client}@127.0.0.1:${frontPort}/tls-echo`)).rejects.toMatchObject({
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
  });

  it('an rwrs hop requested through an rwr link (TLS inside the link)', async () => {
    const hop = listen(relay.url('rws', '/to-front'));
    servers.push(hop);
    hop.on('connection', (link: Socket) => {
      const upstream = track(connect({ host: '127.0.0.1', port: frontPort, allowHalfOpen: true }));
      track(link);
      expect(dialerAddressOf(link)).toMatch(/^127\.0\.0\.1:/);
      link.on('error', () => upstream.destroy());
      upstream.on('error', () => link.destroy());
      link.pipe(upstream).pipe(link);
    });
    await nextEvent(hop, 'listening');
    const socket = await dial(`${relay.url('rwr', '/to-front')} rwrs://${relay.keys.client}@127.0.0.1:${frontPort}/tls-echo`, {
      tls: { ca: cert },
    });
    socket.end('tls in a link');
    expect((await readAll(socket)).toString()).toBe('tls in a link');
  });
});
