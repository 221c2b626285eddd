/** The listener's reading of the relay: the grant in the 101's headers, and notify messages told apart from extension frames. */
import { parseNotify } from '@remoted/sdk';
import { NO_GRANT, readGrant, requestedFeatures } from '@remoted/sdk/listener-features';
import { parseRelayMessage } from '@remoted/sdk/relay-message';

describe('listener features', () => {
  it('asks for drain always and for spare only when it would hold some', () => {
    expect(requestedFeatures(0)).toBe('drain');
    expect(requestedFeatures(4)).toBe('drain, spare');
  });

  it('reads what the relay grants', () => {
    expect(readGrant({ 'x-remoted-features': 'drain, spare', 'x-remoted-listener-id': 'lsn_1', 'x-remoted-spares': '16' })).toEqual({
      listenerId: 'lsn_1',
      drain: true,
      spares: 16,
    });
    expect(readGrant({ 'x-remoted-features': 'DRAIN', 'x-remoted-listener-id': 'lsn_2' })).toEqual({ listenerId: 'lsn_2', drain: true, spares: 0 });
  });

  it('grants nothing from a relay that says nothing (the original)', () => {
    expect(readGrant({ upgrade: 'websocket', connection: 'Upgrade' })).toEqual(NO_GRANT);
  });

  it('holds no spares without a usable listener id or count', () => {
    expect(readGrant({ 'x-remoted-features': 'spare', 'x-remoted-spares': '8' }).spares).toBe(0);
    expect(readGrant({ 'x-remoted-features': 'spare', 'x-remoted-listener-id': 'lsn_3', 'x-remoted-spares': '-1' }).spares).toBe(0);
    expect(readGrant({ 'x-remoted-features': 'spare', 'x-remoted-listener-id': 'lsn_3', 'x-remoted-spares': '8 spares' }).spares).toBe(0);
    // Spares counted but not granted as a feature.
    expect(readGrant({ 'x-remoted-features': 'drain', 'x-remoted-listener-id': 'lsn_3', 'x-remoted-spares': '8' }).spares).toBe(0);
  });
});

describe('relay messages', () => {
  const text = (value: string): Buffer => Buffer.from(value);

  it('tells notify messages from extension frames', () => {
    expect(parseRelayMessage(text('{"ipaddr":"203.0.113.7:51234","id":"abc","timeout":60}'))).toEqual({
      kind: 'notify',
      notify: { ipaddr: '203.0.113.7:51234', id: 'abc', timeout: 60 },
    });
    expect(parseRelayMessage(text('{"op":"draining","by":"operator"}'))).toEqual({ kind: 'op', op: { op: 'draining', by: 'operator' } });
    expect(parseRelayMessage(text('{"op":"draining","by":"listener"}'))).toEqual({ kind: 'op', op: { op: 'draining', by: 'listener' } });
  });

  it('ignores unknown ops, a frame with both an op and an id, junk, and the original\'s "id": false', () => {
    for (const frame of ['{"op":"rebalance"}', '{"op":"draining","by":"someone"}', '{"op":"x","id":"abc"}', 'not json', '[1,2]', '{"ipaddr":"","id":false,"timeout":0}']) {
      expect(parseRelayMessage(text(frame))).toEqual({ kind: 'ignored' });
    }
    expect(parseNotify(text('{"op":"draining","by":"operator"}'))).toBeUndefined();
  });
});
