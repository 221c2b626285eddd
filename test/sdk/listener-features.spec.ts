/** The listener's reading of the relay: the grant in the 101's headers, and notify messages told apart from extension frames. */
import { parseNotify } from '@remoted/sdk';
import { NO_GRANT, readGrant, requestedFeatures } from '@remoted/sdk/wire/listener-grant';
import { parseListenerFrame, encodeListenerOp, parseListenerOp } from '@remoted/sdk/wire/listener-frames';

describe('listener features', () => {
  it('asks for drain always, for spare only when it would hold some, for refuse only when it may refuse', () => {
    expect(requestedFeatures(0)).toBe('drain');
    expect(requestedFeatures(4)).toBe('drain, spare');
    expect(requestedFeatures(0, true)).toBe('drain, refuse');
    expect(requestedFeatures(4, true)).toBe('drain, spare, refuse');
  });

  it('reads what the relay grants', () => {
    expect(readGrant({ 'x-remoted-features': 'drain, spare', 'x-remoted-listener-id': 'lsn_1', 'x-remoted-spares': '16' })).toEqual({
      listenerId: 'lsn_1',
      drain: true,
      spares: 16,
      refuse: false,
    });
    expect(readGrant({ 'x-remoted-features': 'DRAIN', 'x-remoted-listener-id': 'lsn_2' })).toEqual({ listenerId: 'lsn_2', drain: true, spares: 0, refuse: false });
    expect(readGrant({ 'x-remoted-features': 'drain, refuse', 'x-remoted-listener-id': 'lsn_4' }).refuse).toBe(true);
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
    expect(parseListenerFrame(text('{"ipaddr":"203.0.113.7:51234","id":"abc","timeout":60}'))).toEqual({
      kind: 'notify',
      notify: { ipaddr: '203.0.113.7:51234', id: 'abc', timeout: 60 },
    });
    expect(parseListenerFrame(text('{"op":"draining","by":"operator"}'))).toEqual({ kind: 'op', op: { op: 'draining', by: 'operator' } });
    expect(parseListenerFrame(text('{"op":"draining","by":"listener"}'))).toEqual({ kind: 'op', op: { op: 'draining', by: 'listener' } });
  });

  it('ignores unknown ops, a frame with both an op and an id, junk, and the original\'s "id": false', () => {
    for (const frame of ['{"op":"rebalance"}', '{"op":"draining","by":"someone"}', '{"op":"x","id":"abc"}', 'not json', '[1,2]', '{"ipaddr":"","id":false,"timeout":0}']) {
      expect(parseListenerFrame(text(frame))).toEqual({ kind: 'ignored' });
    }
    expect(parseNotify(text('{"op":"draining","by":"operator"}'))).toBeUndefined();
  });
});

describe('listener ops (both ways)', () => {
  it('parses what it encodes', () => {
    for (const op of [{ op: 'drain' }, { op: 'draining', by: 'operator' }, { op: 'refuse', id: 'abc', reason: 'down' }] as const) {
      expect(parseListenerOp(encodeListenerOp(op))).toEqual(op);
    }
    expect(encodeListenerOp({ op: 'refuse', id: 'abc', reason: 'down' })).toBe('{"op":"refuse","id":"abc","reason":"down"}');
  });

  it('keeps a refusal\'s reason to one bounded line, and needs an id', () => {
    const parsed = parseListenerOp(JSON.stringify({ op: 'refuse', id: 'abc', reason: `a\r\nb\u0000${'x'.repeat(500)}` }));
    expect(parsed).toEqual({ op: 'refuse', id: 'abc', reason: `a b ${'x'.repeat(196)}` });
    expect(parseListenerOp('{"op":"refuse","id":"abc"}')).toEqual({ op: 'refuse', id: 'abc', reason: '' });
    for (const text of ['{"op":"refuse","reason":"x"}', '{"op":"refuse","id":""}', '{"op":"refuse","id":7}', 'junk']) {
      expect(parseListenerOp(text)).toBeUndefined();
    }
  });
});
