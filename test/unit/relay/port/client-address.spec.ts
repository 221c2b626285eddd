import { Agent, createServer, request, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import fc from 'fast-check';
import { type ClientAddress, TrustedProxies } from '../../../../src/relay/port/client-address';
import { unmapped } from '@remoted/sdk/wire/ip-text';
import { setProxiedSource } from '../../../../src/relay/port/proxied-source';
import type { ProxyEndpoint } from '@remoted/sdk/wire/proxy-header';

/**
 * A real HTTP server: each request is resolved by the `TrustedProxies` of
 * the moment, on Node's own IncomingMessage over a real socket, and answered
 * with the result and the peer's port as Node saw it.
 */
interface Resolved {
  client: ClientAddress;
  remotePort: number;
}

class ResolvingServer {
  trusted = new TrustedProxies(undefined);
  /** When set, each new connection carries it as the client a PROXY header named. */
  proxied: ProxyEndpoint | undefined;
  private readonly server: Server;
  private readonly agent = new Agent({ keepAlive: false });

  constructor(private readonly host: string) {
    this.server = createServer((req, res) => {
      const body: Resolved = { client: this.trusted.resolve(req), remotePort: req.socket.remotePort ?? -1 };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    });
    this.server.on('connection', (socket: Socket) => {
      if (this.proxied) setProxiedSource(socket, this.proxied);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, this.host, resolve));
  }

  close(): Promise<void> {
    this.agent.destroy();
    return new Promise((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  /** One request with `headers` (an array value is sent as repeated header lines). */
  send(headers: OutgoingHttpHeaders = {}, options: { host?: string; localAddress?: string } = {}): Promise<Resolved> {
    const { port } = this.server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const req = request({ host: options.host ?? this.host, port, path: '/', headers, agent: this.agent, localAddress: options.localAddress }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(JSON.parse(text) as Resolved));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }
}

describe('TrustedProxies: the list', () => {
  it('trusts nothing without a spec, or with an empty one', () => {
    for (const spec of [undefined, '', ' ', ', ,']) {
      const trusted = new TrustedProxies(spec);
      expect(trusted.any).toBe(false);
      expect(trusted.has('127.0.0.1')).toBe(false);
      expect(trusted.has('::1')).toBe(false);
    }
  });

  it('takes single addresses, as /32 and /128', () => {
    const trusted = new TrustedProxies(' 10.0.0.1 , 2001:db8::1 ');
    expect(trusted.any).toBe(true);
    expect(trusted.has('10.0.0.1')).toBe(true);
    expect(trusted.has('10.0.0.2')).toBe(false);
    expect(trusted.has('2001:db8::1')).toBe(true);
    expect(trusted.has('2001:db8:0:0:0:0:0:1')).toBe(true);
    expect(trusted.has('2001:db8::2')).toBe(false);
  });

  it('takes IPv4 CIDRs', () => {
    const trusted = new TrustedProxies('10.0.0.0/8,192.168.4.0/22');
    expect(trusted.has('10.0.0.0')).toBe(true);
    expect(trusted.has('10.255.255.255')).toBe(true);
    expect(trusted.has('11.0.0.0')).toBe(false);
    expect(trusted.has('9.255.255.255')).toBe(false);
    expect(trusted.has('192.168.7.255')).toBe(true);
    expect(trusted.has('192.168.8.0')).toBe(false);
    expect(trusted.has('192.168.3.255')).toBe(false);
  });

  it('takes IPv6 CIDRs', () => {
    const trusted = new TrustedProxies('2001:db8::/32, fd00::/8');
    expect(trusted.has('2001:db8::1')).toBe(true);
    expect(trusted.has('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(trusted.has('2001:db9::')).toBe(false);
    expect(trusted.has('fdff::1')).toBe(true);
    expect(trusted.has('fe00::1')).toBe(false);
  });

  it('keeps an IPv4 entry to IPv4: 0.0.0.0/0 trusts no IPv6 address', () => {
    const v4 = new TrustedProxies('0.0.0.0/0');
    expect(v4.has('203.0.113.1')).toBe(true);
    expect(v4.has('2001:db8::1')).toBe(false);
    expect(v4.has('::1')).toBe(false);
    expect(new TrustedProxies('::/0').has('2001:db8::1')).toBe(true);
  });

  it('matches an IPv4-mapped IPv6 address against the IPv4 entries', () => {
    const trusted = new TrustedProxies('10.0.0.0/8');
    expect(trusted.has('::ffff:10.1.2.3')).toBe(true);
    expect(trusted.has('::ffff:11.1.2.3')).toBe(false);
  });

  it('trusts nothing that is not an IP', () => {
    const trusted = new TrustedProxies('0.0.0.0/0, ::/0');
    for (const ip of ['', 'localhost', '10.0.0.1:80', '[::1]', '10.0.0', 'unknown']) expect(trusted.has(ip)).toBe(false);
  });

  it.each(['proxy.internal', '10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0.0/a', '10.0.0.0/1.5', '10.0.0.0/8/8', '/8', '10.0.0.0/8;', '300.0.0.1'])(
    'refuses the entry %j, naming it',
    (entry) => {
      expect(() => new TrustedProxies(`127.0.0.1, ${entry}`)).toThrow(`"${entry}"`);
    },
  );
});

describe('unmapped', () => {
  it('gives an IPv4-mapped IPv6 address as the IPv4 one and leaves others alone', () => {
    expect(unmapped('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(unmapped('192.0.2.1')).toBe('192.0.2.1');
    expect(unmapped('::1')).toBe('::1');
    expect(unmapped('::ffff:1')).toBe('::ffff:1');
    expect(unmapped('2001:db8::ffff:1.2.3.4')).toBe('2001:db8::ffff:1.2.3.4');
    expect(unmapped('')).toBe('');
  });
});

describe('TrustedProxies.resolve over a real socket, IPv4', () => {
  const server = new ResolvingServer('127.0.0.1');
  beforeAll(() => server.listen());
  afterAll(() => server.close());
  beforeEach(() => {
    server.proxied = undefined;
  });

  const spoof = { 'x-forwarded-for': '203.0.113.5', 'x-real-ip': '203.0.113.6' };

  it('is the peer, with its port, when no proxy is trusted; the headers are ignored', async () => {
    server.trusted = new TrustedProxies(undefined);
    const { client, remotePort } = await server.send(spoof);
    expect(remotePort).toBeGreaterThan(0);
    expect(client).toEqual({ ip: '127.0.0.1', display: `127.0.0.1:${remotePort}` });
  });

  it('is the peer when the peer is not a trusted proxy', async () => {
    server.trusted = new TrustedProxies('10.0.0.0/8, ::1');
    const { client, remotePort } = await server.send(spoof);
    expect(client).toEqual({ ip: '127.0.0.1', display: `127.0.0.1:${remotePort}` });
  });

  it('is the peer when a trusted one sends neither header', async () => {
    server.trusted = new TrustedProxies('127.0.0.1');
    const { client, remotePort } = await server.send();
    expect(client).toEqual({ ip: '127.0.0.1', display: `127.0.0.1:${remotePort}` });
  });

  it('is the client a trusted peer names in X-Forwarded-For, shown with port 0', async () => {
    server.trusted = new TrustedProxies('127.0.0.1');
    expect((await server.send({ 'x-forwarded-for': '203.0.113.5' })).client).toEqual({ ip: '203.0.113.5', display: '203.0.113.5:0' });
    expect((await server.send({ 'x-forwarded-for': '2001:db8::5' })).client).toEqual({ ip: '2001:db8::5', display: '[2001:db8::5]:0' });
  });

  it('walks X-Forwarded-For from the right to the first hop that is not a trusted proxy', async () => {
    server.trusted = new TrustedProxies('127.0.0.0/8, 10.0.0.0/8');
    // The client wrote 198.51.100.66 itself; 203.0.113.5 is what our first proxy saw.
    const { client } = await server.send({ 'x-forwarded-for': '198.51.100.66, 203.0.113.5, 10.1.2.3, 10.9.9.9' });
    expect(client).toEqual({ ip: '203.0.113.5', display: '203.0.113.5:0' });
  });

  it('takes the leftmost hop when every hop is a trusted proxy', async () => {
    server.trusted = new TrustedProxies('127.0.0.0/8, 10.0.0.0/8');
    expect((await server.send({ 'x-forwarded-for': '10.0.0.1, 10.0.0.2' })).client.ip).toBe('10.0.0.1');
  });

  it('reads several X-Forwarded-For headers as one list, in order', async () => {
    server.trusted = new TrustedProxies('127.0.0.1, 10.0.0.0/8');
    const { client } = await server.send({ 'x-forwarded-for': ['198.51.100.66, 203.0.113.5', '10.0.0.2', '10.0.0.3'] });
    expect(client.ip).toBe('203.0.113.5');
    const other = await server.send({ 'x-forwarded-for': ['10.0.0.2', '203.0.113.7'] });
    expect(other.client.ip).toBe('203.0.113.7');
  });

  it('skips empty entries and spaces', async () => {
    server.trusted = new TrustedProxies('127.0.0.1');
    expect((await server.send({ 'x-forwarded-for': ' , 203.0.113.5 ,, ' })).client.ip).toBe('203.0.113.5');
  });

  it('ends the walk at a malformed hop, keeping the last good one', async () => {
    server.trusted = new TrustedProxies('127.0.0.1, 10.0.0.0/8');
    expect((await server.send({ 'x-forwarded-for': '203.0.113.5, garbage, 10.0.0.2' })).client.ip).toBe('10.0.0.2');
    expect((await server.send({ 'x-forwarded-for': '203.0.113.5, 203.0.113.6:1234, 10.0.0.2' })).client.ip).toBe('10.0.0.2');
    expect((await server.send({ 'x-forwarded-for': '203.0.113.5, unknown' })).client.ip).toBe('127.0.0.1');
  });

  it('is the peer when X-Forwarded-For holds nothing usable', async () => {
    server.trusted = new TrustedProxies('127.0.0.1');
    for (const xff of ['garbage', '203.0.113.5:80', '[2001:db8::1]', '[2001:db8::1]:80', '203.0.113', 'fe80::1%', ',']) {
      const { client, remotePort } = await server.send({ 'x-forwarded-for': xff });
      expect(client).toEqual({ ip: '127.0.0.1', display: `127.0.0.1:${remotePort}` });
    }
  });

  it('gives an IPv4-mapped hop as the IPv4 address', async () => {
    server.trusted = new TrustedProxies('127.0.0.1');
    expect((await server.send({ 'x-forwarded-for': '::ffff:203.0.113.5' })).client).toEqual({ ip: '203.0.113.5', display: '203.0.113.5:0' });
    // Mapped and trusted: walked past like its IPv4 form.
    server.trusted = new TrustedProxies('127.0.0.1, 10.0.0.0/8');
    expect((await server.send({ 'x-forwarded-for': '203.0.113.5, ::ffff:10.0.0.2' })).client.ip).toBe('203.0.113.5');
  });

  it('falls back to X-Real-IP without a usable X-Forwarded-For, and prefers X-Forwarded-For', async () => {
    server.trusted = new TrustedProxies('127.0.0.1');
    expect((await server.send({ 'x-real-ip': ' 203.0.113.9 ' })).client).toEqual({ ip: '203.0.113.9', display: '203.0.113.9:0' });
    expect((await server.send({ 'x-real-ip': '2001:db8::9' })).client).toEqual({ ip: '2001:db8::9', display: '[2001:db8::9]:0' });
    expect((await server.send({ 'x-real-ip': '::ffff:203.0.113.9' })).client.ip).toBe('203.0.113.9');
    expect((await server.send({ 'x-forwarded-for': 'garbage', 'x-real-ip': '203.0.113.9' })).client.ip).toBe('203.0.113.9');
    expect((await server.send({ 'x-forwarded-for': '203.0.113.5', 'x-real-ip': '203.0.113.9' })).client.ip).toBe('203.0.113.5');
  });

  it('is the peer when X-Real-IP is not one address', async () => {
    server.trusted = new TrustedProxies('127.0.0.1');
    for (const realIp of ['garbage', '203.0.113.9:80', '203.0.113.9, 203.0.113.10']) {
      expect((await server.send({ 'x-real-ip': realIp })).client.ip).toBe('127.0.0.1');
    }
    // Repeated, Node joins the lines with ", ": no longer one address.
    expect((await server.send({ 'x-real-ip': ['203.0.113.9', '203.0.113.10'] })).client.ip).toBe('127.0.0.1');
  });

  it('checks the peer against CIDRs: other loopback sources in and out of the range', async () => {
    server.trusted = new TrustedProxies('127.0.0.4/30');
    const headers = { 'x-forwarded-for': '203.0.113.5' };
    for (const inside of ['127.0.0.4', '127.0.0.7']) {
      expect((await server.send(headers, { localAddress: inside })).client.ip).toBe('203.0.113.5');
    }
    for (const outside of ['127.0.0.3', '127.0.0.8']) {
      const { client, remotePort } = await server.send(headers, { localAddress: outside });
      expect(client).toEqual({ ip: outside, display: `${outside}:${remotePort}` });
    }
  });

  it('takes the client a PROXY header named for the peer: its address, its port, its trust', async () => {
    server.proxied = { address: '203.0.113.20', port: 40000 };
    server.trusted = new TrustedProxies('127.0.0.1');
    // The named client is not a trusted proxy, so its headers count for nothing.
    expect((await server.send(spoof)).client).toEqual({ ip: '203.0.113.20', display: '203.0.113.20:40000' });
    server.proxied = { address: '2001:db8::20', port: 40001 };
    expect((await server.send()).client).toEqual({ ip: '2001:db8::20', display: '[2001:db8::20]:40001' });
    // A named client that is itself a trusted proxy: its X-Forwarded-For is believed.
    server.proxied = { address: '10.0.0.20', port: 40002 };
    server.trusted = new TrustedProxies('10.0.0.0/8');
    expect((await server.send(spoof)).client).toEqual({ ip: '203.0.113.5', display: '203.0.113.5:0' });
  });

  it('walks any X-Forwarded-For to the rightmost untrusted hop (property)', async () => {
    server.trusted = new TrustedProxies('127.0.0.1, 10.0.0.0/8, fd00::/8');
    const trustedHop = fc.oneof(fc.nat(255).map((n) => `10.0.${n}.1`), fc.nat(0xffff).map((n) => `fd00::${n.toString(16)}`));
    const untrustedHop = fc.oneof(fc.nat(255).map((n) => `203.0.113.${n}`), fc.nat(0xffff).map((n) => `2001:db8::${n.toString(16)}`));
    const hops = fc.array(fc.oneof(trustedHop, untrustedHop), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(hops, fc.integer({ min: 1, max: 3 }), async (list, headerCount) => {
        const expected = [...list].reverse().find((hop) => !server.trusted.has(hop)) ?? list[0];
        // Split into up to `headerCount` header lines; the order across lines is the order of hops.
        const per = Math.ceil(list.length / headerCount);
        const lines = Array.from({ length: headerCount }, (_, i) => list.slice(i * per, (i + 1) * per).join(', ')).filter((l) => l !== '');
        const { client } = await server.send({ 'x-forwarded-for': lines });
        expect(client.ip).toBe(expected);
        expect(client.display).toBe(expected.includes(':') ? `[${expected}]:0` : `${expected}:0`);
      }),
      { numRuns: 40 },
    );
  });
});

describe('TrustedProxies.resolve over a real socket, IPv6 and dual stack', () => {
  it('reads an IPv6 peer, showing it bracketed with its port', async () => {
    const server = new ResolvingServer('::1');
    await server.listen();
    try {
      server.trusted = new TrustedProxies('127.0.0.1');
      const untrusted = await server.send({ 'x-forwarded-for': '203.0.113.5' });
      expect(untrusted.client).toEqual({ ip: '::1', display: `[::1]:${untrusted.remotePort}` });
      server.trusted = new TrustedProxies('::/0');
      expect((await server.send({ 'x-forwarded-for': '203.0.113.5' })).client.ip).toBe('203.0.113.5');
    } finally {
      await server.close();
    }
  });

  it('reads an IPv4 peer on a dual-stack socket (::ffff:127.0.0.1) as 127.0.0.1', async () => {
    const server = new ResolvingServer('::');
    await server.listen();
    try {
      const untrusted = await server.send({ 'x-forwarded-for': '203.0.113.5' }, { host: '127.0.0.1' });
      expect(untrusted.client).toEqual({ ip: '127.0.0.1', display: `127.0.0.1:${untrusted.remotePort}` });
      // Trusted by its IPv4 form.
      server.trusted = new TrustedProxies('127.0.0.0/8');
      expect((await server.send({ 'x-forwarded-for': '203.0.113.5' }, { host: '127.0.0.1' })).client.ip).toBe('203.0.113.5');
      // An IPv6 list does not trust it.
      server.trusted = new TrustedProxies('::1');
      expect((await server.send({ 'x-forwarded-for': '203.0.113.5' }, { host: '127.0.0.1' })).client.ip).toBe('127.0.0.1');
    } finally {
      await server.close();
    }
  });
});

describe('TrustedProxies: prefixes are digits only', () => {
  it.each(['10.0.0.1/', '10.0.0.0/0x8', '10.0.0.0/ 8', '10.0.0.0/+8', '10.0.0.0/1e1'])('refuses %j (it would have trusted other addresses)', (entry) => {
    expect(() => new TrustedProxies(entry)).toThrow(/is not an address or CIDR/);
  });
});

describe('unmapped: the hex form of a mapped address', () => {
  it('reads ::ffff:102:304 as 1.2.3.4, as the dotted form', () => {
    expect(unmapped('::ffff:102:304')).toBe('1.2.3.4');
    expect(unmapped('::FFFF:7f00:1')).toBe('127.0.0.1');
    expect(unmapped('::ffff:1:2:3')).toBe('::ffff:1:2:3');
  });
});
