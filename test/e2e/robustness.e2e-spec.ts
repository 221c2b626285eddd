/** Bad input harms nothing else: garbage, huge and slow requests while real links carry on. */
import { connectTo, rawRequest, readBytes, webRouteHeaders } from '../helpers/raw-http';
import { linkedSocket, makeLink, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { closedByPeer, ended } from '../helpers/wait-for';

describe('bad input', () => {
  let relay: StartedRelay;
  let listener: TestListener;

  beforeEach(async () => {
    relay = await startRelay({ limits: { headerTimeoutMs: 300 } });
    listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
  });
  afterEach(async () => {
    await listener.close();
    await relay.close();
  });

  it('closes garbage, oversized and slow requests while a live link keeps echoing', async () => {
    const { dialer, listenerSide } = await makeLink(relay.port, '/svc', listener, relay.keys);
    const a = linkedSocket(dialer);
    const b = linkedSocket(listenerSide);
    b.on('data', (chunk: Buffer) => b.write(chunk)).resume();
    const roundTrip = async (text: string): Promise<void> => {
      a.write(text);
      expect((await readBytes(a, text.length)).toString()).toBe(text);
    };

    const garbage = await connectTo(relay.port);
    garbage.on('error', () => undefined);
    const garbageEnded = ended(garbage);
    garbage.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a, 0x99]));

    const slow = await connectTo(relay.port);
    slow.on('error', () => undefined);
    // Closed while it still dribbles headers: unread bytes at the relay make that a reset as often as a FIN.
    const slowEnded = closedByPeer(slow, 3000);
    slow.write('GET /svc HTTP/1.1\r\nHost: x\r\n');
    const dribble = setInterval(() => slow.writable && slow.write('X-A: b\r\n'), 50);
    try {

    const huge = rawRequest(relay.port, '/svc', { headers: { ...webRouteHeaders(relay.keys.client), 'X-Big': 'b'.repeat(64 * 1024) } });

    await roundTrip('still here 1');
    expect((await huge).status).toBe(431);
    await garbageEnded;
    await roundTrip('still here 2');
    await slowEnded;
    } finally {
      clearInterval(dribble);
    }
    await roundTrip('still here 3');
    expect(listener.notices).toHaveLength(0);

    // And a new link is made as usual afterwards.
    const again = await makeLink(relay.port, '/svc', listener, relay.keys, { dialerExtra: 'new' });
    expect((await readBytes(linkedSocket(again.listenerSide), 3)).toString()).toBe('new');
    for (const s of [a, b, again.dialer.socket, again.listenerSide.socket, garbage, slow]) s.destroy();
  });

  it('survives a burst of malformed upgrade requests of many shapes', async () => {
    const shapes = [
      'GET / HTTP/1.1\r\nUpgrade: webroute\r\nConnection: Upgrade\r\n\r\n',
      'GET /svc HTTP/1.1\r\nUpgrade: webroute\r\nConnection: Upgrade\r\nX-Remoted-APIKey: \r\n\r\n',
      `GET /svc HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Remoted-APIKey: ${'k'}\r\nSec-WebSocket-Key: nope\r\n\r\n`,
      'GET /svc HTTP/1.1\r\nUpgrade: webroute\r\nConnection: Upgrade\r\nWebRoute-Version: 1\r\nWebRoute-ID:\r\n\r\n',
      'GET http://evil/svc?x HTTP/1.1\r\nUpgrade: webroute\r\nConnection: Upgrade\r\n\r\n',
      'BREW /pot HTCPCP/1.0\r\n\r\n',
      'GET /svc HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      '\r\n\r\n\r\n',
    ];
    const results = await Promise.all(
      shapes.map((raw) =>
        rawRequest(relay.port, '/', { raw, timeoutMs: 2000 }).then(
          (r) => r.status,
          () => 'closed',
        ),
      ),
    );
    for (const result of results) expect([400, 403, 'closed']).toContain(result);
    const { dialer } = await makeLink(relay.port, '/svc', listener, relay.keys);
    expect(dialer.status).toBe(101);
    dialer.socket.destroy();
  });
});
