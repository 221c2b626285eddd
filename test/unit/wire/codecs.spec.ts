/**
 * Each wire message's encoder and decoder (sdk/src/wire/), checked against
 * each other: what one side writes, the other reads back unchanged, and the
 * exact bytes the original's peers expect are kept. (The PROXY header's own
 * round trips are in proxy-header.spec.ts.)
 */
import type { IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { ERROR_CODES, type ListenerOpMessage, MAX_REFUSE_REASON_LENGTH, type NotifyMessage } from '@remoted/sdk/protocol';
import { encodeErrorBody, parseErrorBody } from '@remoted/sdk/wire/error-body';
import { encodeFeatures, hasFeature, parseFeatures } from '@remoted/sdk/wire/features';
import { encodeListenerGrant, NO_GRANT, readGrant } from '@remoted/sdk/wire/listener-grant';
import { encodeListenerOp, parseListenerOp, encodeNotify, parseNotifyText } from '@remoted/sdk/wire/listener-frames';

/** Text that can travel in a header value or a WebRoute id: printable, no CR or LF. */
const headerText = fc.string({ minLength: 1, maxLength: 64, unit: fc.constantFrom(...'abcXYZ019_-.:/[]'.split('')) });

/** Header lines as Node's parser gives them: lower-case names, repeated values joined. */
function headersOf(lines: readonly string[]): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

describe('notify message', () => {
  it('keeps the original\'s bytes: keys in order, slashes unescaped', () => {
    expect(encodeNotify({ ipaddr: '[2001:db8::1]:443', id: 'a/b', timeout: 60 })).toBe('{"ipaddr":"[2001:db8::1]:443","id":"a/b","timeout":60}');
  });

  it('reads back what it wrote', () => {
    const notify = fc.record({ ipaddr: fc.string({ maxLength: 64 }), id: headerText, timeout: fc.integer({ min: 1, max: 86_400 }) });
    fc.assert(fc.property(notify, (message: NotifyMessage) => expect(parseNotifyText(encodeNotify(message))).toEqual(message)));
  });

  it('is no notify with an id that could write a header, or an op frame', () => {
    expect(parseNotifyText('{"ipaddr":"1.2.3.4","id":"a\\r\\nX: 1","timeout":5}')).toBeUndefined();
    expect(parseNotifyText('{"ipaddr":"1.2.3.4","id":false,"timeout":5}')).toBeUndefined();
    expect(parseNotifyText('{"op":"drain","id":"x"}')).toBeUndefined();
  });
});

describe('error body', () => {
  it('keeps the protocol\'s shape', () => {
    expect(encodeErrorBody('missing_destination', 'No listener.')).toBe('{"success":false,"error":"No listener.","errorcode":"missing_destination"}');
  });

  it('reads back every code with any sentence', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ERROR_CODES), fc.string({ maxLength: 200 }), (code, sentence) => {
        expect(parseErrorBody(encodeErrorBody(code, sentence))).toEqual({ errorcode: code, error: sentence });
      }),
    );
  });

  it('is no error body with an unknown code, or without JSON', () => {
    expect(parseErrorBody('{"success":false,"error":"x","errorcode":"nope"}')).toBeUndefined();
    expect(parseErrorBody('<html>502</html>')).toBeUndefined();
    expect(parseErrorBody('{"errorcode":"over_capacity"}')).toEqual({ errorcode: 'over_capacity', error: undefined });
  });
});

describe('X-Remoted-Features', () => {
  const tokens = fc.uniqueArray(fc.constantFrom('early-data', 'drain', 'spare', 'refuse', 'x-future'), { maxLength: 5 });

  it('reads back the tokens it wrote, in order, and finds each', () => {
    fc.assert(
      fc.property(tokens, (list) => {
        const header = encodeFeatures(list);
        expect(parseFeatures(header)).toEqual(list);
        for (const token of list) expect(hasFeature(header, token)).toBe(true);
      }),
    );
  });

  it('compares without case or spaces, across a repeated header', () => {
    expect(parseFeatures([' Drain ,SPARE', 'refuse,,'])).toEqual(['drain', 'spare', 'refuse']);
    expect(hasFeature(['drain', 'Early-Data'], 'early-data')).toBe(true);
    expect(hasFeature('early-datax', 'early-data')).toBe(false);
  });
});

describe('listener grant', () => {
  const grant = fc.record({ listenerId: headerText, drain: fc.boolean(), spares: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 999_999_999 })), refuse: fc.boolean() });

  it('reads back a grant from the 101 header lines it wrote', () => {
    fc.assert(
      fc.property(grant, (g) => {
        const lines = encodeListenerGrant(g);
        const nothing = !g.drain && g.spares === 0 && !g.refuse;
        // Nothing granted: the original's plain 101, which reads as no grant at all.
        expect(readGrant(headersOf(lines))).toEqual(nothing ? NO_GRANT : g);
      }),
    );
  });

  it('writes the features, the listener id, and the spares only with spare', () => {
    expect(encodeListenerGrant({ listenerId: 'lsn_1', drain: true, spares: 16, refuse: false })).toEqual([
      'X-Remoted-Features: drain, spare',
      'X-Remoted-Listener-ID: lsn_1',
      'X-Remoted-Spares: 16',
    ]);
    expect(encodeListenerGrant({ listenerId: 'lsn_2', drain: true, spares: 0, refuse: true })).toEqual(['X-Remoted-Features: drain, refuse', 'X-Remoted-Listener-ID: lsn_2']);
  });
});

describe('listener ops', () => {
  const op: fc.Arbitrary<ListenerOpMessage> = fc.oneof(
    fc.constant({ op: 'drain' as const }),
    fc.constantFrom('listener' as const, 'operator' as const).map((by) => ({ op: 'draining' as const, by })),
    fc.record({ op: fc.constant('refuse' as const), id: headerText, reason: fc.string({ maxLength: MAX_REFUSE_REASON_LENGTH, unit: fc.constantFrom(...'ab c1.'.split('')) }).map((r) => r.trim()) }),
  );

  it('reads back each op it wrote', () => {
    fc.assert(fc.property(op, (message) => expect(parseListenerOp(encodeListenerOp(message))).toEqual(message)));
  });

  it('cuts a refusal\'s reason to one line of at most the limit', () => {
    const long = `a\r\nb${'x'.repeat(MAX_REFUSE_REASON_LENGTH * 2)}`;
    const parsed = parseListenerOp(encodeListenerOp({ op: 'refuse', id: 'd1', reason: long }));
    expect(parsed).toEqual({ op: 'refuse', id: 'd1', reason: `a b${'x'.repeat(MAX_REFUSE_REASON_LENGTH - 3)}` });
  });
});
