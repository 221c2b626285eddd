import { createHash, randomBytes } from 'node:crypto';
import { webRouteAccept } from '@remoted/sdk/protocol';
import { closed, rawRequest, readAll, readBytes, webRouteHeaders } from '../helpers/raw-http';
import { dialBack, linkedSocket, makeLink, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { ended, waitFor } from '../helpers/wait-for';
import { RelayAdmin } from '../../src/relay/relay-admin';

describe('a link through the relay', () => {
  let relay: StartedRelay;
  let listener: TestListener;

  beforeEach(async () => {
    relay = await startRelay();
    listener = await TestListener.open(relay.port, '/db/primary', relay.keys.server);
  });
  afterEach(async () => {
    await listener.close();
    await relay.close();
  });

  it('notifies the listener with the exact JSON and answers both sides 101 with Sec-WebRoute-Accept', async () => {
    const { dialer, listenerSide, notice } = await makeLink(relay.port, '/db/primary?x=1', listener, relay.keys);
    const expectedNotify = `{"ipaddr":"127.0.0.1:${dialer.socket.localPort}","id":"${notice.id}","timeout":60}`;
    expect(listener.rawNotices).toEqual([expectedNotify]);
    const expectedHead =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: webroute\r\nConnection: Upgrade\r\n' +
      `Sec-WebRoute-Accept: ${webRouteAccept(notice.id)}`;
    expect(dialer.head).toBe(expectedHead);
    expect(listenerSide.head).toBe(expectedHead);
    expect(webRouteAccept('6fa1a1490ee0fe617b36530054e984786897e022')).toBe('FgtwdI1ph0NTOVQts+nD5u0AcXs=');

    const a = linkedSocket(dialer);
    const b = linkedSocket(listenerSide);
    a.write('ping');
    expect((await readBytes(b, 4)).toString()).toBe('ping');
    b.write('pong');
    expect((await readBytes(a, 4)).toString()).toBe('pong');
    a.end();
    await ended(b);
    b.end();
    await Promise.all([closed(a), closed(b)]);
  });

  it('tells the listener the larger of the default and the dialer WebRoute-Timeout', async () => {
    const pending = rawRequest(relay.port, '/db/primary', { headers: webRouteHeaders(relay.keys.client, 'abc', { 'WebRoute-Timeout': '300' }) });
    expect((await listener.nextNotice()).timeout).toBe(300);
    const low = rawRequest(relay.port, '/db/primary', { headers: webRouteHeaders(relay.keys.client, 'def', { 'WebRoute-Timeout': '5' }) });
    expect((await listener.nextNotice()).timeout).toBe(60);
    const junk = rawRequest(relay.port, '/db/primary', { headers: webRouteHeaders(relay.keys.client, 'ghi', { 'WebRoute-Timeout': '-7x' }) });
    expect((await listener.nextNotice()).timeout).toBe(60);
    await listener.close();
    for (const p of [pending, low, junk]) expect((await p).status).toBe(502);
  });

  it('delivers bytes sent in the same segment as the request headers, both ways, first', async () => {
    const { dialer, listenerSide } = await makeLink(relay.port, '/db/primary', listener, relay.keys, {
      dialerExtra: 'EARLY-FROM-DIALER',
      listenerExtra: 'EARLY-FROM-LISTENER',
    });
    const a = linkedSocket(dialer);
    const b = linkedSocket(listenerSide);
    a.write('+later');
    b.write('+later');
    expect((await readBytes(b, 23)).toString()).toBe('EARLY-FROM-DIALER+later');
    expect((await readBytes(a, 25)).toString()).toBe('EARLY-FROM-LISTENER+later');
    a.destroy();
  });

  it('holds bytes for a moment after the 101 of the original PHP SDK (it drops what shares the read of its 101)', async () => {
    const dial = startDial(relay.port, '/db/primary', relay.keys.client, {
      extra: 'EARLY',
      headers: { 'X-Remoted-Features': 'early-data' },
    });
    const notice = await listener.nextNotice();
    // What WebRoute::Connect sends: Connection: keep-alive, Upgrade (the helper's default) and Pragma: no-cache.
    const legacyListener = await dialBack(relay.port, '/db/primary', relay.keys.server, notice.id, { headers: { Pragma: 'no-cache' } });
    // The 101 came alone; the dialer's early bytes follow in a later read.
    expect(legacyListener.rest.length).toBe(0);
    expect((await readBytes(legacyListener.socket, 5)).toString()).toBe('EARLY');
    const modernDialer = await dial.response;
    legacyListener.socket.write('reply');
    expect((await readBytes(linkedSocket(modernDialer), 5)).toString()).toBe('reply');
    modernDialer.socket.destroy();
  });

  it('passes a FIN on as a FIN: the dialer half-closes and still receives', async () => {
    const { dialer, listenerSide } = await makeLink(relay.port, '/db/primary', listener, relay.keys);
    const a = linkedSocket(dialer);
    const b = linkedSocket(listenerSide);
    const bGot = readAll(b);
    a.end('request');
    expect((await bGot).toString()).toBe('request');
    b.end('response after the FIN');
    expect((await readAll(a)).toString()).toBe('response after the FIN');
    await Promise.all([closed(a), closed(b)]);
  });

  it('passes a FIN on as a FIN: the listener half-closes and still receives', async () => {
    const { dialer, listenerSide } = await makeLink(relay.port, '/db/primary', listener, relay.keys);
    const a = linkedSocket(dialer);
    const b = linkedSocket(listenerSide);
    const aGot = readAll(a);
    b.end('banner');
    expect((await aGot).toString()).toBe('banner');
    a.end('reply after the FIN');
    expect((await readAll(b)).toString()).toBe('reply after the FIN');
  });

  it('ends the link at once when one side resets', async () => {
    const admin = relay.app.get(RelayAdmin);
    const { dialer, listenerSide } = await makeLink(relay.port, '/db/primary', listener, relay.keys);
    const b = linkedSocket(listenerSide);
    expect(admin.links()).toHaveLength(1);
    linkedSocket(dialer).resetAndDestroy();
    await ended(b);
    await waitFor(() => admin.links().length === 0, 'link removed from the relay');
    b.destroy();
  });

  it('moves 64 MiB each way at once with both digests intact', async () => {
    const { dialer, listenerSide } = await makeLink(relay.port, '/db/primary', listener, relay.keys);
    const a = linkedSocket(dialer);
    const b = linkedSocket(listenerSide);
    const size = 64 * 1024 * 1024;
    const send = (socket: typeof a): Promise<string> => {
      const hash = createHash('sha256');
      let left = size;
      return new Promise((resolve) => {
        const pump = (): void => {
          while (left > 0) {
            const chunk = randomBytes(Math.min(256 * 1024, left));
            left -= chunk.length;
            hash.update(chunk);
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
          socket.end();
          resolve(hash.digest('hex'));
        };
        pump();
      });
    };
    const receive = (socket: typeof a): Promise<{ digest: string; bytes: number }> =>
      new Promise((resolve, reject) => {
        const hash = createHash('sha256');
        let bytes = 0;
        socket.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        socket.once('end', () => resolve({ digest: hash.digest('hex'), bytes }));
        socket.once('error', reject);
        socket.resume();
      });
    const [sentA, sentB, gotB, gotA] = await Promise.all([send(a), send(b), receive(b), receive(a)]);
    expect(gotB).toEqual({ digest: sentA, bytes: size });
    expect(gotA).toEqual({ digest: sentB, bytes: size });
  }, 60_000);

  it('carries 200 concurrent links on one listener, each with its own bytes', async () => {
    const count = 200;
    const links = Array.from({ length: count }, (_, i) => startDial(relay.port, '/db/primary', relay.keys.client, { extra: `hello ${i};` }));
    // Answer each notice with a dial-back, in whatever order the notices come.
    const backs = await Promise.all(
      links.map(async () => {
        const notice = await listener.nextNotice();
        return { id: notice.id, side: linkedSocket(await dialBack(relay.port, '/db/primary', relay.keys.server, notice.id)) };
      }),
    );
    const byId = new Map(backs.map((b) => [b.id, b.side]));
    await Promise.all(
      links.map(async ({ id, response }, i) => {
        const a = linkedSocket(await response);
        const b = byId.get(id)!;
        const text = `hello ${i};`;
        expect((await readBytes(b, text.length)).toString()).toBe(text);
        b.end(`bye ${i}`);
        expect((await readAll(a)).toString()).toBe(`bye ${i}`);
        a.end();
      }),
    );
  }, 60_000);
});
