/** PROXY protocol headers, byte for byte against layouts worked out by hand from haproxy's proxy-protocol.txt. */
import { PassThrough } from 'node:stream';
import { buildProxyHeader, parseDialerAddress, proxyHeader } from '@remoted/sdk';
import { setDialerAddress } from '@remoted/sdk/listen/dialer-address';

/** The v2 signature: \r\n\r\n\0\r\nQUIT\n. */
const SIG = '0d0a0d0a000d0a515549540a';
const hex = (buffer: Buffer): string => buffer.toString('hex');

const dialer4 = { address: '203.0.113.7', port: 51234 }; // cb 00 71 07, port c8 22
const service4 = { address: '127.0.0.1', port: 8080 }; // 7f 00 00 01, port 1f 90
const dialer6 = { address: '2001:db8::1', port: 51234 };
const service6 = { address: '::1', port: 443 }; // port 01 bb

describe('parseDialerAddress', () => {
  it('reads the notify forms ip:port and [ipv6]:port', () => {
    expect(parseDialerAddress('203.0.113.7:51234')).toEqual(dialer4);
    expect(parseDialerAddress('[2001:db8::1]:51234')).toEqual(dialer6);
    expect(parseDialerAddress('127.0.0.2:0')).toEqual({ address: '127.0.0.2', port: 0 });
  });
  it('takes a bare address (no port) as port 0', () => {
    expect(parseDialerAddress('203.0.113.7')).toEqual({ address: '203.0.113.7', port: 0 });
    expect(parseDialerAddress('2001:db8::1')).toEqual({ address: '2001:db8::1', port: 0 });
  });
  it('refuses names, bad ports, zone ids, leading zeros and nothing', () => {
    for (const bad of [undefined, '', 'host.example:80', '1.2.3.4:65536', '1.2.3.4:x', '[fe80::1%eth0]:5', '01.2.3.4:5', '[1.2.3.4]:5x']) {
      expect(parseDialerAddress(bad)).toBeUndefined();
    }
  });
});

describe('PROXY protocol v1', () => {
  it('TCP4: PROXY TCP4 src dst sport dport CRLF', () => {
    expect(buildProxyHeader('v1', dialer4, service4).toString('latin1')).toBe('PROXY TCP4 203.0.113.7 127.0.0.1 51234 8080\r\n');
  });
  it('TCP6, addresses in compressed lower-case form without brackets', () => {
    expect(buildProxyHeader('v1', dialer6, service6).toString('latin1')).toBe('PROXY TCP6 2001:db8::1 ::1 51234 443\r\n');
    const long = { address: '2001:0DB8:0000:0000:0001:0000:0000:0001', port: 1 };
    // Two equal zero runs: the first is the one compressed.
    expect(buildProxyHeader('v1', long, service6).toString('latin1')).toBe('PROXY TCP6 2001:db8::1:0:0:1 ::1 1 443\r\n');
    const oneZero = { address: '2001:db8:0:1:1:1:1:1', port: 2 };
    expect(buildProxyHeader('v1', oneZero, service6).toString('latin1')).toBe('PROXY TCP6 2001:db8:0:1:1:1:1:1 ::1 2 443\r\n');
  });
  it('mixed families: TCP6, the IPv4 end mapped to ::ffff:0:0/96 (as haproxy)', () => {
    expect(buildProxyHeader('v1', dialer4, service6).toString('latin1')).toBe('PROXY TCP6 ::ffff:cb00:7107 ::1 51234 443\r\n');
    expect(buildProxyHeader('v1', { address: '::ffff:203.0.113.7', port: 5 }, service6).toString('latin1')).toBe(
      'PROXY TCP6 ::ffff:cb00:7107 ::1 5 443\r\n',
    );
  });
  it('PROXY UNKNOWN CRLF when an end is unknown or unreadable', () => {
    expect(buildProxyHeader('v1', undefined, service4).toString('latin1')).toBe('PROXY UNKNOWN\r\n');
    expect(buildProxyHeader('v1', dialer4, undefined).toString('latin1')).toBe('PROXY UNKNOWN\r\n');
    expect(buildProxyHeader('v1', { address: 'example.com', port: 1 }, service4).toString('latin1')).toBe('PROXY UNKNOWN\r\n');
    expect(buildProxyHeader('v1', { address: '1.2.3.4', port: 70000 }, service4).toString('latin1')).toBe('PROXY UNKNOWN\r\n');
  });
  it('stays within the spec\'s 107 bytes at the longest', () => {
    const widest = { address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 };
    const line = buildProxyHeader('v1', widest, widest);
    expect(line.length).toBe(104);
    expect(line.length).toBeLessThanOrEqual(107);
  });
});

describe('PROXY protocol v2', () => {
  it('TCP over IPv4: 0x21 0x11, length 12, src, dst, sport, dport', () => {
    expect(hex(buildProxyHeader('v2', dialer4, service4))).toBe(`${SIG}2111000c` + 'cb007107' + '7f000001' + 'c822' + '1f90');
  });
  it('TCP over IPv6: 0x21 0x21, length 36', () => {
    expect(hex(buildProxyHeader('v2', dialer6, service6))).toBe(
      `${SIG}21210024` + '20010db8000000000000000000000001' + '00000000000000000000000000000001' + 'c822' + '01bb',
    );
  });
  it('mixed families: IPv6 with the IPv4 end mapped', () => {
    expect(hex(buildProxyHeader('v2', dialer4, service6))).toBe(
      `${SIG}21210024` + '00000000000000000000ffffcb007107' + '00000000000000000000000000000001' + 'c822' + '01bb',
    );
  });
  it('LOCAL (0x20), family UNSPEC, no address block when an end is unknown', () => {
    expect(hex(buildProxyHeader('v2', undefined, service4))).toBe(`${SIG}20000000`);
    expect(buildProxyHeader('v2', undefined, service4).length).toBe(16);
  });
});

describe('proxyHeader(socket, destination, version)', () => {
  it("reads the dialer's address kept on a relay socket", () => {
    const socket = new PassThrough();
    setDialerAddress(socket, '203.0.113.7:51234');
    expect(proxyHeader(socket, service4, 'v1').toString('latin1')).toBe('PROXY TCP4 203.0.113.7 127.0.0.1 51234 8080\r\n');
    expect(hex(proxyHeader(socket, service4, 'v2'))).toBe(`${SIG}2111000ccb0071077f000001c8221f90`);
  });
  it('a socket that did not come through the relay: UNKNOWN / LOCAL', () => {
    const socket = new PassThrough();
    expect(proxyHeader(socket, service4, 'v1').toString('latin1')).toBe('PROXY UNKNOWN\r\n');
    expect(hex(proxyHeader(socket, service4, 'v2'))).toBe(`${SIG}20000000`);
  });
});
