/** listen() and dial() against the real relay: echo, half-close, dialer address, pre-link bytes. */
import { connect, createServer, type Socket } from 'node:net';
import { attach, dial, dialerAddressOf, listen, type RemotedServer } from '@remoted/sdk';
import { randomToken, webRouteAccept } from '@remoted/sdk/protocol';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { echoConnections, nextEvent, readAll, readBytes } from './sdk-helpers';

describe('listen and dial through the relay', () => {
  let relay: StartedRelay;
  let server: RemotedServer | undefined;
  const open: Socket[] = [];

  beforeEach(async () => {
    relay = await startRelay();
  });
  afterEach(async () => {
    for (const socket of open) socket.destroy();
    open.length = 0;
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    await relay.close();
  });

  async function listening(path: string): Promise<RemotedServer> {
    server = listen(relay.url('rws', path));
    await nextEvent(server, 'listening');
    return server;
  }

  it('echoes through a net-like listener and passes a FIN on', async () => {
    const srv = await listening('/echo');
    echoConnections(srv);
    expect(srv.address()).toEqual({ host: '127.0.0.1', port: relay.port, path: '/echo', secure: false });
    const socket = await dial(relay.url('rwr', '/echo'));
    open.push(socket);
    socket.end('hello through the relay');
    expect((await readAll(socket)).toString()).toBe('hello through the relay');
  });

  it('attach: a plain net echo server accepts links, with half-close', async () => {
    const echo = createServer({ allowHalfOpen: true }, (socket) => {
      open.push(socket);
      socket.pipe(socket);
    });
    server = attach(echo, relay.url('rws', '/net-echo'));
    await nextEvent(server, 'listening');
    const socket = await dial(relay.url('rwr', '/net-echo'));
    open.push(socket);
    socket.write('first ');
    socket.end('second');
    expect((await readAll(socket)).toString()).toBe('first second');
  });

  it('tells the listener the dialer address, typed, on each connection', async () => {
    const srv = await listening('/who');
    const accepted = nextEvent<Socket>(srv, 'connection');
    const socket = await dial(relay.url('rwr', '/who'));
    open.push(socket);
    const link = await accepted;
    open.push(link);
    expect(dialerAddressOf(link)).toBe(`127.0.0.1:${socket.localPort}`);
    expect(dialerAddressOf(socket)).toBeUndefined();
  });

  it('serves many dials at once, each on its own link', async () => {
    const srv = await listening('/many');
    echoConnections(srv);
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const socket = await dial(relay.url('rwr', '/many'));
        open.push(socket);
        socket.end(`message ${i}`);
        return (await readAll(socket)).toString();
      }),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => `message ${i}`));
  });

  it('listener: bytes the dialer sent with its request reach the application', async () => {
    const srv = await listening('/early');
    const accepted = nextEvent<Socket>(srv, 'connection');
    // A raw dialer that writes its payload in the same write as its headers:
    // the relay sends them to the listener right behind its 101.
    const id = randomToken();
    const raw = connect(relay.port, '127.0.0.1');
    open.push(raw);
    raw.write(
      `GET /early HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: webroute\r\nWebRoute-Version: 1\r\nWebRoute-ID: ${id}\r\n` +
        `X-Remoted-APIKey: ${relay.keys.client}\r\n\r\nEARLY-BYTES`,
    );
    const link = await accepted;
    open.push(link);
    expect((await readBytes(link, 11)).toString()).toBe('EARLY-BYTES');
  });

  it('dial({ earlyData }): the bytes go with the request, reach the listener first, and the echo follows the 101', async () => {
    const srv = await listening('/early-dial');
    echoConnections(srv);
    const payload = Buffer.concat([Buffer.from('HELLO '), Buffer.alloc(30_000, 0x7a)]);
    const socket = await dial(relay.url('rwr', '/early-dial'), { earlyData: payload });
    open.push(socket);
    expect((await readBytes(socket, payload.length)).equals(payload)).toBe(true);
    socket.end('and the rest');
    expect((await readAll(socket)).toString()).toBe('and the rest');
  });

  it('dialer: bytes that come right behind the 101 reach the application', async () => {
    const srv = await listening('/greet');
    // The listener's application writes at once, before the dialer wrote anything.
    srv.on('connection', (link: Socket) => {
      open.push(link);
      link.write('SSH-2.0-greeting\r\n');
    });
    const socket = await dial(relay.url('rwr', '/greet'));
    open.push(socket);
    expect((await readBytes(socket, 18)).toString()).toBe('SSH-2.0-greeting\r\n');
  });

  it('checks Sec-WebRoute-Accept of the 101 (known vector)', () => {
    expect(webRouteAccept('6fa1a1490ee0fe617b36530054e984786897e022')).toBe('FgtwdI1ph0NTOVQts+nD5u0AcXs=');
  });
});
