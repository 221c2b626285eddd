/** X-Forwarded-For / X-Real-IP: believed from a trusted proxy only, for the notify `ipaddr`. */
import { TestListener } from '../helpers/relay-peers';
import { buildRequest, webRouteHeaders } from '../helpers/raw-http';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { connectFrom } from './ops-helpers';

describe('forwarded client addresses', () => {
  let relay: StartedRelay;
  let listener: TestListener;

  beforeAll(async () => {
    relay = await startRelay({ trustedProxies: '127.0.0.1, 10.0.0.0/8' });
    listener = await TestListener.openUrl(`ws://127.0.0.1:${relay.port}/svc`, relay.keys.server);
  });
  afterAll(async () => {
    await listener.close();
    await relay.close();
  });

  /** Dials from `from` with extra headers and returns the ipaddr the listener is told. */
  async function notifiedAddress(from: string, headers: Record<string, string>): Promise<string> {
    const socket = await connectFrom(relay.port, from);
    socket.write(buildRequest('/svc', 'GET', webRouteHeaders(relay.keys.client, undefined, headers)));
    const notice = await listener.nextNotice();
    socket.destroy();
    return notice.ipaddr;
  }

  it('takes the client from X-Forwarded-For when the peer is a trusted proxy', async () => {
    expect(await notifiedAddress('127.0.0.1', { 'X-Forwarded-For': '203.0.113.7' })).toBe('203.0.113.7:0');
  });

  it('skips trusted hops from the right and ignores what the client wrote to their left', async () => {
    expect(await notifiedAddress('127.0.0.1', { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9, 10.1.2.3' })).toBe('203.0.113.9:0');
  });

  it('formats a forwarded IPv6 client in brackets', async () => {
    expect(await notifiedAddress('127.0.0.1', { 'X-Forwarded-For': '2001:db8::1' })).toBe('[2001:db8::1]:0');
  });

  it('falls back to X-Real-IP, and to the peer on garbage', async () => {
    expect(await notifiedAddress('127.0.0.1', { 'X-Real-IP': '192.0.2.44' })).toBe('192.0.2.44:0');
    expect(await notifiedAddress('127.0.0.1', { 'X-Forwarded-For': 'not-an-ip' })).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  });

  it('ignores the headers from a peer that is not trusted', async () => {
    const ipaddr = await notifiedAddress('127.0.0.2', { 'X-Forwarded-For': '203.0.113.7', 'X-Real-IP': '203.0.113.8' });
    expect(ipaddr).toMatch(/^127\.0\.0\.2:[1-9]\d*$/);
  });
});

describe('trusted proxies setting', () => {
  it('refuses to start with an entry that is not an address or CIDR', async () => {
    await expect(startRelay({ trustedProxies: '127.0.0.1, nonsense/99' })).rejects.toThrow(/nonsense/);
  });
});
