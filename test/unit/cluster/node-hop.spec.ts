/** The hop header (src/cluster/node-hop.ts): made by one node for another, accepted only by that node, recently, for that dial. */
import fc from 'fast-check';
import { HOP_MAX_SKEW_MS, hopHeaderValue, hopRequestText, parseNodeAddress, verifyHopHeader } from '../../../src/cluster/node-hop';
import type { HopRequest } from '../../../src/relay/context/route-directory';

const SECRET = 's'.repeat(32);
const nodeId = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
const keyId = fc.stringMatching(/^key_[A-Za-z0-9]{1,20}$/);
const webRouteId = fc.stringMatching(/^[A-Za-z0-9]{64}$/);
const path = fc.stringMatching(/^\/[a-z0-9/._-]{0,40}$/);

describe('node hop header', () => {
  it('round-trips: what one node makes for another, that node accepts as the same hop', () => {
    fc.assert(
      fc.property(nodeId, nodeId, keyId, webRouteId, path, fc.integer({ min: 0, max: 2 ** 42 }), (from, to, listenerKeyId, id, hopPath, atMs) => {
        const hop: HopRequest = { fromNodeId: from, listenerKeyId, id, path: hopPath };
        expect(verifyHopHeader(SECRET, to, hopHeaderValue(SECRET, to, hop, atMs), hopPath, id, atMs)).toEqual(hop);
      }),
    );
  });

  it('refuses a hop made for another node, with another secret, for another dial or path, or too old', () => {
    const hop: HopRequest = { fromNodeId: 'node-b', listenerKeyId: 'key_1', id: 'A'.repeat(64), path: '/db' };
    const now = 1_800_000_000_000;
    const header = hopHeaderValue(SECRET, 'node-d', hop, now);
    expect(verifyHopHeader(SECRET, 'node-d', header, '/db', hop.id, now)).toEqual(hop);
    expect(verifyHopHeader(SECRET, 'node-x', header, '/db', hop.id, now)).toBeUndefined();
    expect(verifyHopHeader('t'.repeat(32), 'node-d', header, '/db', hop.id, now)).toBeUndefined();
    expect(verifyHopHeader(SECRET, 'node-d', header, '/db', 'B'.repeat(64), now)).toBeUndefined();
    expect(verifyHopHeader(SECRET, 'node-d', header, '/other', hop.id, now)).toBeUndefined();
    expect(verifyHopHeader(SECRET, 'node-d', header, '/db', hop.id, now + HOP_MAX_SKEW_MS + 1)).toBeUndefined();
    // A key id changed in the header is not the key the mac names.
    expect(verifyHopHeader(SECRET, 'node-d', header.replace('key_1', 'key_2'), '/db', hop.id, now)).toBeUndefined();
  });

  it('refuses malformed headers without throwing, in time linear in their length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        expect(verifyHopHeader(SECRET, 'node-d', text, '/db', 'A'.repeat(64), Date.now())).toBeUndefined();
      }),
    );
    expect(verifyHopHeader(SECRET, 'node-d', 'x '.repeat(100_000), '/db', 'A'.repeat(64), Date.now())).toBeUndefined();
  });

  it('writes one WebRoute upgrade naming the dial and the hop', () => {
    const text = hopRequestText('10.0.0.12:37791', { fromNodeId: 'b', listenerKeyId: 'key_1', id: 'A'.repeat(64), path: '/db' }, 'b 1 key_1 mac');
    expect(text).toBe(`GET /db HTTP/1.1\r\nHost: 10.0.0.12:37791\r\nConnection: Upgrade\r\nUpgrade: webroute\r\nWebRoute-Version: 1\r\nWebRoute-ID: ${'A'.repeat(64)}\r\nx-remoted-hop: b 1 key_1 mac\r\n\r\n`);
  });
});

describe('node address', () => {
  it('reads host:port and [ipv6]:port, and nothing else', () => {
    expect(parseNodeAddress('10.0.0.11:37791')).toEqual({ host: '10.0.0.11', port: 37791 });
    expect(parseNodeAddress('relay-1.internal:1')).toEqual({ host: 'relay-1.internal', port: 1 });
    expect(parseNodeAddress('[fd00::11]:37791')).toEqual({ host: 'fd00::11', port: 37791 });
    for (const bad of ['10.0.0.11', ':37791', 'fd00::11:37791', '10.0.0.11:0', '10.0.0.11:70000', 'a b:1', '']) expect(parseNodeAddress(bad)).toBeUndefined();
  });
});
