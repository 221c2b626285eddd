/** PROXY protocol v1/v2 input on the relay port: the client a trusted balancer names becomes the dialer's address. */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { rmSync } from 'node:fs';
import { buildProxyHeader, type ProxyEndpoint, type ProxyProtocolVersion } from '@remoted/sdk/listen/proxy-protocol';
import { TestListener } from '../helpers/relay-peers';
import { buildRequest, connectTo, readBytes, readResponse, webRouteHeaders } from '../helpers/raw-http';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { connectFrom, type CertFiles, selfSignedCert } from './ops-helpers';

const CLIENT_V4: ProxyEndpoint = { address: '203.0.113.7', port: 40001 };
const CLIENT_V6: ProxyEndpoint = { address: '2001:db8::1', port: 5555 };

function header(version: ProxyProtocolVersion, source: ProxyEndpoint | undefined, port: number): Buffer {
  return buildProxyHeader(version, source, source && { address: '127.0.0.1', port });
}

/** A listener whose connection starts with a v2 LOCAL header, as a balancer's own connection would. */
function openListener(port: number, path: string, key: string): Promise<TestListener> {
  return TestListener.openUrl(`ws://127.0.0.1:${port}${path}`, key, {
    createConnection: () => {
      const socket = netConnect({ port, host: '127.0.0.1' });
      socket.write(header('v2', undefined, port));
      return socket;
    },
  });
}

/** Resolves when the relay ends or resets the connection. */
function closedByRelay(socket: Socket, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    socket.once('end', done);
    socket.once('close', done);
    socket.once('error', done);
    socket.resume();
  });
}

describe('PROXY protocol on the relay port', () => {
  let relay: StartedRelay;
  let listener: TestListener;

  beforeAll(async () => {
    relay = await startRelay({ trustedProxies: '127.0.0.1', proxyProtocol: true, limits: { headerTimeoutMs: 1000 } });
    listener = await openListener(relay.port, '/svc', relay.keys.server);
  });
  afterAll(async () => {
    await listener.close();
    await relay.close();
  });

  /** Dials with `prefix` before the request (in one write, or two) and returns the ipaddr the listener is told. */
  async function notifiedAddress(prefix: Buffer, oneWrite = true): Promise<string> {
    const socket = await connectTo(relay.port);
    const request = Buffer.from(buildRequest('/svc', 'GET', webRouteHeaders(relay.keys.client)));
    if (oneWrite) socket.write(Buffer.concat([prefix, request]));
    else {
      socket.write(prefix);
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.write(request);
    }
    const notice = await listener.nextNotice();
    socket.destroy();
    return notice.ipaddr;
  }

  it('takes the client from a v1 header', async () => {
    expect(await notifiedAddress(header('v1', CLIENT_V4, relay.port))).toBe('203.0.113.7:40001');
    expect(await notifiedAddress(header('v1', CLIENT_V6, relay.port), false)).toBe('[2001:db8::1]:5555');
  });

  it('takes the client from a v2 header', async () => {
    expect(await notifiedAddress(header('v2', CLIENT_V4, relay.port), false)).toBe('203.0.113.7:40001');
    expect(await notifiedAddress(header('v2', CLIENT_V6, relay.port))).toBe('[2001:db8::1]:5555');
  });

  it('keeps the peer for v1 UNKNOWN and v2 LOCAL', async () => {
    expect(await notifiedAddress(header('v1', undefined, relay.port))).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(await notifiedAddress(header('v2', undefined, relay.port))).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  });

  it('makes a full link behind headers, bytes after the header included', async () => {
    const dial = await connectTo(relay.port);
    dial.write(Buffer.concat([header('v1', CLIENT_V4, relay.port), Buffer.from(buildRequest('/svc', 'GET', webRouteHeaders(relay.keys.client)))]));
    const dialed = readResponse(dial);
    const notice = await listener.nextNotice();
    expect(notice.ipaddr).toBe('203.0.113.7:40001');
    const back = await connectTo(relay.port);
    back.write(Buffer.concat([header('v2', undefined, relay.port), Buffer.from(buildRequest('/svc', 'GET', webRouteHeaders(relay.keys.server, notice.id)))]));
    const backResponse = await readResponse(back);
    const dialResponse = await dialed;
    expect([dialResponse.status, backResponse.status]).toEqual([101, 101]);
    dial.write('ping');
    expect((await readBytes(back, 4, backResponse.rest)).toString()).toBe('ping');
    back.write('pong');
    expect((await readBytes(dial, 4, dialResponse.rest)).toString()).toBe('pong');
    dial.destroy();
    back.destroy();
  });

  it('closes a connection with a malformed header; others still link', async () => {
    for (const bad of ['PROXY TCP4 nonsense 127.0.0.1 1 2\r\n', 'GET /svc HTTP/1.1\r\n\r\n', `PROXY TCP4 ${'9'.repeat(120)}`]) {
      const socket = await connectTo(relay.port);
      socket.write(bad);
      await closedByRelay(socket);
    }
    const badV2 = header('v2', CLIENT_V4, relay.port);
    badV2[12] = 0x31; // version 3
    const socket = await connectTo(relay.port);
    socket.write(badV2);
    await closedByRelay(socket);
    expect(await notifiedAddress(header('v1', CLIENT_V4, relay.port))).toBe('203.0.113.7:40001');
  });

  it('closes a connection whose header does not come within the header timeout', async () => {
    const socket = await connectTo(relay.port);
    socket.write('PROXY TCP4 203.0.113.7');
    const started = Date.now();
    await closedByRelay(socket, 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });

  it('refuses a peer that is not a trusted proxy, header or not', async () => {
    const socket = await connectFrom(relay.port, '127.0.0.2');
    socket.write(Buffer.concat([header('v1', CLIENT_V4, relay.port), Buffer.from(buildRequest('/svc', 'GET', webRouteHeaders(relay.keys.client)))]));
    await closedByRelay(socket);
    expect(listener.notices).toHaveLength(0);
  });
});

describe('PROXY protocol in front of TLS', () => {
  let relay: StartedRelay;
  let cert: CertFiles;

  beforeAll(async () => {
    cert = selfSignedCert('relay-proxied');
    relay = await startRelay({ trustedProxies: '127.0.0.1', proxyProtocol: true, tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
  });
  afterAll(async () => {
    await relay.close();
    rmSync(cert.dir, { recursive: true, force: true });
  });

  it('reads the header before the handshake', async () => {
    const listener = await TestListener.openUrl(`wss://127.0.0.1:${relay.port}/tls`, relay.keys.server, {
      ca: cert.cert,
      createConnection: () => {
        const raw = netConnect({ port: relay.port, host: '127.0.0.1' });
        raw.write(header('v2', undefined, relay.port));
        return tlsConnect({ socket: raw, host: '127.0.0.1', ca: cert.cert });
      },
    });
    const raw = await connectTo(relay.port);
    raw.write(header('v2', CLIENT_V6, relay.port));
    const secure = await new Promise<Socket>((resolve, reject) => {
      const s = tlsConnect({ socket: raw, host: '127.0.0.1', ca: cert.cert }, () => resolve(s));
      s.once('error', reject);
    });
    secure.write(buildRequest('/tls', 'GET', webRouteHeaders(relay.keys.client)));
    expect((await listener.nextNotice()).ipaddr).toBe('[2001:db8::1]:5555');
    secure.destroy();
    await listener.close();
  });
});

describe('PROXY protocol off (the default)', () => {
  let relay: StartedRelay;

  beforeAll(async () => {
    relay = await startRelay({ trustedProxies: '127.0.0.1' });
  });
  afterAll(() => relay.close());

  it('treats a PROXY header as a bad request, even from a trusted proxy', async () => {
    const listener = await TestListener.open(relay.port, '/plain', relay.keys.server);
    const socket = await connectTo(relay.port);
    socket.write(Buffer.concat([header('v1', CLIENT_V4, relay.port), Buffer.from(buildRequest('/plain', 'GET', webRouteHeaders(relay.keys.client)))]));
    await closedByRelay(socket);
    expect(listener.notices).toHaveLength(0);
    await listener.close();
  });
});

describe('PROXY protocol settings', () => {
  it('refuses to start without trusted proxies to take headers from', async () => {
    await expect(startRelay({ proxyProtocol: true })).rejects.toThrow(/--trusted-proxies/);
  });
});
