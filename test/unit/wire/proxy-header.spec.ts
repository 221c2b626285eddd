import { isIP } from 'node:net';
import fc from 'fast-check';
import { buildProxyHeader, type ProxyEndpoint } from '@remoted/sdk/listen/proxy-protocol';
import {
  MAX_V1_HEADER_BYTES,
  MAX_V2_HEADER_BYTES,
  parseProxyHeader,
  type ProxyHeaderResult,
  V2_FIXED_BYTES,
} from '@remoted/sdk/wire/proxy-header';

const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function v1(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** A v2 header: signature, version/command byte, family/transport byte, the length field, then `body`. */
function v2(verCmd: number, famProto: number, body: Buffer | number[], length = Buffer.from(body).length): Buffer {
  const fixed = Buffer.alloc(V2_FIXED_BYTES);
  SIGNATURE.copy(fixed, 0);
  fixed[12] = verCmd;
  fixed[13] = famProto;
  fixed.writeUInt16BE(length, 14);
  return Buffer.concat([fixed, Buffer.from(body)]);
}

function ports(src: number, dst: number): number[] {
  return [src >> 8, src & 0xff, dst >> 8, dst & 0xff];
}

/** The address block of TCP over IPv4: 4+4 address bytes and 2+2 port bytes. */
function tcp4Block(src: number[], dst: number[], srcPort: number, dstPort: number): number[] {
  return [...src, ...dst, ...ports(srcPort, dstPort)];
}

function done(headerBytes: number, source: { address: string; port: number } | undefined): ProxyHeaderResult {
  return { state: 'done', headerBytes, source };
}

function expectInvalid(bytes: Buffer): void {
  const result = parseProxyHeader(bytes);
  expect(result.state).toBe('invalid');
  if (result.state === 'invalid') expect(result.reason).not.toBe('');
}

describe('parseProxyHeader, version 1', () => {
  it('reads a TCP4 line: the source endpoint, and the line length with its CRLF', () => {
    const line = 'PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n';
    expect(parseProxyHeader(v1(line))).toEqual(done(line.length, { address: '192.0.2.10', port: 56324 }));
  });

  it('reads a TCP6 line', () => {
    const line = 'PROXY TCP6 2001:db8::7 2001:db8::1 65535 80\r\n';
    expect(parseProxyHeader(v1(line))).toEqual(done(line.length, { address: '2001:db8::7', port: 65535 }));
  });

  it('gives an IPv4-mapped TCP6 source in its IPv4 form', () => {
    const line = 'PROXY TCP6 ::ffff:192.0.2.10 ::1 1000 80\r\n';
    expect(parseProxyHeader(v1(line))).toEqual(done(line.length, { address: '192.0.2.10', port: 1000 }));
  });

  it('accepts port 0 and the largest port on both ends', () => {
    const line = 'PROXY TCP4 10.0.0.1 10.0.0.2 0 65535\r\n';
    expect(parseProxyHeader(v1(line))).toEqual(done(line.length, { address: '10.0.0.1', port: 0 }));
  });

  it('counts only the line when the connection\'s data follows it', () => {
    const line = 'PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n';
    const bytes = Buffer.concat([v1(line), v1('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    expect(parseProxyHeader(bytes)).toEqual(done(line.length, { address: '192.0.2.10', port: 56324 }));
  });

  it('reads UNKNOWN as no source, with or without anything before the CRLF', () => {
    expect(parseProxyHeader(v1('PROXY UNKNOWN\r\n'))).toEqual(done(15, undefined));
    const line = 'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n';
    expect(parseProxyHeader(v1(`${line}data`))).toEqual(done(line.length, undefined));
  });

  it('takes a line of exactly 107 bytes and refuses one of 108', () => {
    const at = (total: number): string => `PROXY UNKNOWN ${'x'.repeat(total - 'PROXY UNKNOWN '.length - 2)}\r\n`;
    expect(at(MAX_V1_HEADER_BYTES)).toHaveLength(107);
    expect(parseProxyHeader(v1(at(107)))).toEqual(done(107, undefined));
    expectInvalid(v1(at(108)));
    // The CR as the 107th byte and the LF past it: 108 bytes again.
    expectInvalid(v1(`${'PROXY UNKNOWN '.padEnd(106, 'x')}\r\n`));
  });

  it('waits for the CRLF until 107 bytes have come, then gives up', () => {
    expect(parseProxyHeader(v1('PROXY UNKNOWN '.padEnd(106, 'x')))).toEqual({ state: 'incomplete' });
    expectInvalid(v1('PROXY UNKNOWN '.padEnd(107, 'x')));
    expectInvalid(v1('PROXY TCP4 '.padEnd(500, '1')));
  });

  it('wants more bytes for every beginning of a line', () => {
    const line = 'PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n';
    expect(parseProxyHeader(Buffer.alloc(0))).toEqual({ state: 'incomplete' });
    for (const prefix of ['P', 'PROX', 'PROXY', 'PROXY ', 'PROXY TCP4 192.0.2.10', line.slice(0, -1), 'PROXY UNKNOWN\r']) {
      expect(parseProxyHeader(v1(prefix))).toEqual({ state: 'incomplete' });
    }
  });

  it('refuses what is not a PROXY header at all', () => {
    expectInvalid(v1('GET / HTTP/1.1\r\n'));
    expectInvalid(v1('proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'));
    expectInvalid(v1('PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n'));
    expectInvalid(v1('X'));
    expectInvalid(Buffer.from([0x16, 0x03, 0x01])); // a TLS ClientHello
  });

  it.each([
    ['an unknown family', 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['UDP', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['a lower-case family', 'PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['five fields', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
    ['seven fields', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'],
    ['two spaces', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n'],
    ['a trailing space', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n'],
    ['only the prefix', 'PROXY \r\n'],
    ['a bare LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r\n'],
    ['an IPv6 source under TCP4', 'PROXY TCP4 ::1 5.6.7.8 1 2\r\n'],
    ['an IPv4 destination under TCP6', 'PROXY TCP6 ::1 5.6.7.8 1 2\r\n'],
    ['an octet past 255', 'PROXY TCP4 256.1.1.1 5.6.7.8 1 2\r\n'],
    ['three octets', 'PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n'],
    ['a name', 'PROXY TCP4 localhost 5.6.7.8 1 2\r\n'],
    ['a bad destination', 'PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n'],
    ['a bracketed IPv6', 'PROXY TCP6 [::1] ::2 1 2\r\n'],
    ['a bad IPv6', 'PROXY TCP6 2001:db8:::1 ::2 1 2\r\n'],
    ['a source port past 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'],
    ['a destination port past 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n'],
    ['a six-digit port', 'PROXY TCP4 1.2.3.4 5.6.7.8 000001 2\r\n'],
    ['a negative port', 'PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n'],
    ['a port with a letter', 'PROXY TCP4 1.2.3.4 5.6.7.8 80a 2\r\n'],
    ['a hex port', 'PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n'],
    ['a fractional port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1.5 2\r\n'],
  ])('refuses a line with %s', (_what, line) => {
    expectInvalid(v1(line));
  });
});

describe('parseProxyHeader, version 2', () => {
  const tcp4 = tcp4Block([192, 0, 2, 10], [198, 51, 100, 1], 56324, 443);

  it('reads PROXY over TCP4: the source and 16 + length bytes', () => {
    expect(parseProxyHeader(v2(0x21, 0x11, tcp4))).toEqual(done(28, { address: '192.0.2.10', port: 56324 }));
  });

  it('reads PROXY over TCP6, the address in its compressed form', () => {
    const src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
    const dst = [...Array(15).fill(0), 1];
    expect(parseProxyHeader(v2(0x21, 0x21, [...src, ...dst, ...ports(1, 2)]))).toEqual(done(52, { address: '2001:db8::7', port: 1 }));
  });

  it('compresses the longest run of zero groups, the first one on a tie, and not a single zero group', () => {
    const groups = (gs: number[]): number[] => gs.flatMap((g) => [g >> 8, g & 0xff]);
    const read = (gs: number[]): string | undefined => {
      const result = parseProxyHeader(v2(0x21, 0x21, [...groups(gs), ...Array(16).fill(0), ...ports(9, 9)]));
      return result.state === 'done' ? result.source?.address : undefined;
    };
    expect(read([1, 0, 0, 2, 0, 0, 0, 3])).toBe('1:0:0:2::3');
    expect(read([1, 0, 0, 2, 0, 0, 3, 4])).toBe('1::2:0:0:3:4');
    expect(read([1, 0, 2, 3, 4, 5, 6, 7])).toBe('1:0:2:3:4:5:6:7');
    expect(read([0, 0, 0, 0, 0, 0, 0, 0])).toBe('::');
    expect(read([0xabcd, 0, 0, 0, 0, 0, 0, 0])).toBe('abcd::');
  });

  it('gives an IPv4-mapped IPv6 source in its IPv4 form', () => {
    const src = [...Array(10).fill(0), 0xff, 0xff, 203, 0, 113, 7];
    const dst = [...Array(15).fill(0), 1];
    expect(parseProxyHeader(v2(0x21, 0x21, [...src, ...dst, ...ports(51234, 80)]))).toEqual(done(52, { address: '203.0.113.7', port: 51234 }));
  });

  it('skips TLVs after the address block, counting them in the header', () => {
    // PP2_TYPE_ALPN "h2", then PP2_TYPE_AUTHORITY "example.com".
    const tlvs = [0x01, 0x00, 0x02, ...Buffer.from('h2'), 0x02, 0x00, 0x0b, ...Buffer.from('example.com')];
    const header = v2(0x21, 0x11, [...tcp4, ...tlvs]);
    const bytes = Buffer.concat([header, Buffer.from('payload')]);
    expect(parseProxyHeader(bytes)).toEqual(done(28 + tlvs.length, { address: '192.0.2.10', port: 56324 }));
  });

  it('reads LOCAL as no source, skipping any address block it carries', () => {
    expect(parseProxyHeader(v2(0x20, 0x00, []))).toEqual(done(16, undefined));
    expect(parseProxyHeader(v2(0x20, 0x11, tcp4))).toEqual(done(28, undefined));
    // LOCAL need not carry a full block: the receiver ignores it.
    expect(parseProxyHeader(v2(0x20, 0x11, [1, 2, 3]))).toEqual(done(19, undefined));
  });

  it('reads the UNSPEC and UNIX families as no source', () => {
    expect(parseProxyHeader(v2(0x21, 0x00, []))).toEqual(done(16, undefined));
    expect(parseProxyHeader(v2(0x21, 0x00, [9, 9, 9]))).toEqual(done(19, undefined));
    const unixBlock = Buffer.alloc(216);
    unixBlock.write('/run/client.sock', 0);
    unixBlock.write('/run/server.sock', 108);
    expect(parseProxyHeader(v2(0x21, 0x31, unixBlock))).toEqual(done(16 + 216, undefined));
  });

  it('counts only the header when data follows it', () => {
    const bytes = Buffer.concat([v2(0x21, 0x11, tcp4), Buffer.from([0x16, 0x03, 0x01, 0x00])]);
    expect(parseProxyHeader(bytes)).toEqual(done(28, { address: '192.0.2.10', port: 56324 }));
  });

  it.each([
    ['version 1', 0x11, 0x11],
    ['version 3', 0x31, 0x11],
    ['version 0', 0x01, 0x11],
    ['version 15', 0xf1, 0x11],
    ['command 2', 0x22, 0x11],
    ['command 15', 0x2f, 0x11],
    ['family 4', 0x21, 0x41],
    ['family 15', 0x21, 0xf1],
    ['transport 3', 0x21, 0x13],
  ])('refuses %s', (_what, verCmd, famProto) => {
    expectInvalid(v2(verCmd, famProto, tcp4));
    // Known from the fixed 16 bytes alone, before the rest has come.
    expectInvalid(v2(verCmd, famProto, [], 12));
  });

  it('wants more bytes while fewer than 16, or fewer than the length field says, have come', () => {
    const header = v2(0x21, 0x11, tcp4);
    for (const n of [1, 4, 12, 13, 15, 16, 27]) {
      expect(parseProxyHeader(header.subarray(0, n))).toEqual({ state: 'incomplete' });
    }
    // A length past what has come: incomplete, even for the largest length.
    expect(parseProxyHeader(v2(0x21, 0x11, tcp4, 13))).toEqual({ state: 'incomplete' });
    expect(parseProxyHeader(v2(0x21, 0x11, tcp4, 0xffff))).toEqual({ state: 'incomplete' });
    expect(parseProxyHeader(v2(0x20, 0x00, [], 1))).toEqual({ state: 'incomplete' });
  });

  it('reads the largest header the length field allows', () => {
    const body = Buffer.alloc(0xffff);
    Buffer.from(tcp4).copy(body);
    expect(parseProxyHeader(v2(0x21, 0x11, body))).toEqual(done(MAX_V2_HEADER_BYTES, { address: '192.0.2.10', port: 56324 }));
  });

  it('refuses an address block too short for its family', () => {
    expectInvalid(v2(0x21, 0x11, []));
    expectInvalid(v2(0x21, 0x11, tcp4.slice(0, 11)));
    expectInvalid(v2(0x21, 0x11, tcp4.slice(0, 8)));
    expectInvalid(v2(0x21, 0x21, Array(35).fill(1)));
    // A TCP4 block is too short for TCP6.
    expectInvalid(v2(0x21, 0x21, tcp4));
  });

  it('refuses bytes that leave the signature', () => {
    expectInvalid(Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x01]));
    expectInvalid(Buffer.concat([SIGNATURE.subarray(0, 11), Buffer.from([0x0b, 0x21, 0x11, 0x00, 0x0c])]));
    expectInvalid(Buffer.from('\r\n\r\n\r\n'));
  });
});

// --- properties --------------------------------------------------------------

const port = fc.integer({ min: 0, max: 0xffff });
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.'));
/** Zero groups often, so that `::` runs of every length and place come up. */
const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
/**
 * An IPv6 literal in its canonical text form (RFC 5952, what the parser gives),
 * written by Node's URL parser. IPv4-mapped addresses are left out: see the
 * report on v1 writing them as `::ffff:102:304`.
 */
const ipv6 = fc
  .array(group, { minLength: 8, maxLength: 8 })
  .filter((gs) => !(gs.slice(0, 5).every((g) => g === 0) && gs[5] === 0xffff))
  .map((gs) => new URL(`http://[${gs.map((g) => g.toString(16)).join(':')}]/`).hostname.slice(1, -1));

const endpoint = (address: fc.Arbitrary<string>): fc.Arbitrary<ProxyEndpoint> => fc.record({ address, port });
/** Source and destination of one family (the v1 line cannot mix them). */
const sameFamily = fc.oneof(fc.tuple(endpoint(ipv4), endpoint(ipv4)), fc.tuple(endpoint(ipv6), endpoint(ipv6)));
/** A v2 header may mix them: the IPv4 end then travels IPv4-mapped. */
const mixedFamily = fc.oneof(fc.tuple(endpoint(ipv4), endpoint(ipv6)), fc.tuple(endpoint(ipv6), endpoint(ipv4)));
const trailing = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));

const headerCase = fc.oneof(
  fc.record({ version: fc.constantFrom('v1' as const, 'v2' as const), ends: sameFamily }),
  fc.record({ version: fc.constant('v2' as const), ends: mixedFamily }),
);

describe('parseProxyHeader reads what buildProxyHeader writes', () => {
  it('gives back the source endpoint and the header length, whatever follows', () => {
    fc.assert(
      fc.property(headerCase, trailing, ({ version, ends: [source, destination] }, rest) => {
        const header = buildProxyHeader(version, source, destination);
        const expected = done(header.length, source);
        expect(parseProxyHeader(header)).toEqual(expected);
        expect(parseProxyHeader(Buffer.concat([header, rest]))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('gives no source for a header without one (v1 UNKNOWN, v2 LOCAL)', () => {
    fc.assert(
      fc.property(fc.constantFrom('v1' as const, 'v2' as const), fc.option(endpoint(ipv4), { nil: undefined }), trailing, (version, one, rest) => {
        const header = buildProxyHeader(version, one, undefined);
        expect(parseProxyHeader(Buffer.concat([header, rest]))).toEqual(done(header.length, undefined));
      }),
    );
  });

  it('finds every strict prefix of a header incomplete', () => {
    fc.assert(
      fc.property(headerCase, ({ version, ends: [source, destination] }) => {
        const header = buildProxyHeader(version, source, destination);
        for (let n = 0; n < header.length; n++) {
          expect(parseProxyHeader(header.subarray(0, n))).toEqual({ state: 'incomplete' });
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseProxyHeader on any bytes', () => {
  /** Header-like bytes reach past the first check: a real header with a few bytes changed, cut, or extended. */
  const damaged = fc
    .tuple(headerCase, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), fc.nat(), trailing)
    .map(([{ version, ends }, edits, cut, rest]) => {
      const bytes = Buffer.concat([buildProxyHeader(version, ...ends), rest]);
      for (const [at, value] of edits) bytes[at % bytes.length] = value;
      return bytes.subarray(0, cut % (bytes.length + 1));
    });
  const anyBytes = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.concat([Buffer.from('PROXY ', 'latin1'), Buffer.from(a)])),
    fc.string({ maxLength: 120 }).map((s) => Buffer.from(`PROXY ${s}`, 'latin1')),
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.concat([SIGNATURE, Buffer.from(a)])),
    damaged,
  );

  it('answers one of the three states without throwing, and done never claims more bytes than it was given', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const result = parseProxyHeader(bytes);
        switch (result.state) {
          case 'incomplete':
            // Bounded: it waits only while a header could still fit.
            expect(bytes.length).toBeLessThan(bytes[0] === 0x0d ? MAX_V2_HEADER_BYTES : MAX_V1_HEADER_BYTES);
            break;
          case 'invalid':
            expect(typeof result.reason).toBe('string');
            expect(result.reason).not.toBe('');
            break;
          case 'done':
            expect(Number.isInteger(result.headerBytes)).toBe(true);
            expect(result.headerBytes).toBeGreaterThan(0);
            expect(result.headerBytes).toBeLessThanOrEqual(bytes.length);
            if (result.source !== undefined) {
              expect(isIP(result.source.address)).not.toBe(0);
              expect(Number.isInteger(result.source.port)).toBe(true);
              expect(result.source.port).toBeGreaterThanOrEqual(0);
              expect(result.source.port).toBeLessThanOrEqual(0xffff);
            }
            break;
          default:
            throw new Error(`unexpected state ${JSON.stringify(result)}`);
        }
        // Pure: the same bytes, the same answer.
        expect(parseProxyHeader(Buffer.from(bytes))).toEqual(result);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads a done header the same with more bytes after it', () => {
    fc.assert(
      fc.property(anyBytes, trailing, (bytes, rest) => {
        const result = parseProxyHeader(bytes);
        if (result.state !== 'done') return;
        expect(parseProxyHeader(Buffer.concat([bytes, rest]))).toEqual(result);
        expect(parseProxyHeader(bytes.subarray(0, result.headerBytes))).toEqual(result);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseProxyHeader, version 1, one client one text', () => {
  it('gives an IPv4 client of a mixed-family header (the SDK writes it mapped, in hex) as IPv4, as version 2 does', () => {
    for (const version of ['v1', 'v2'] as const) {
      const header = buildProxyHeader(version, { address: '1.2.3.4', port: 5 }, { address: '::1', port: 6 });
      expect(parseProxyHeader(header)).toEqual({ state: 'done', headerBytes: header.length, source: { address: '1.2.3.4', port: 5 } });
    }
  });

  it('gives an IPv6 client in its compressed form, and refuses a zone id', () => {
    const long = Buffer.from('PROXY TCP6 2001:db8:0:0:0:0:0:1 ::1 7 8\r\n', 'latin1');
    expect(parseProxyHeader(long)).toMatchObject({ state: 'done', source: { address: '2001:db8::1', port: 7 } });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', 'latin1'))).toMatchObject({ state: 'invalid' });
  });
});
