import type { IncomingMessage } from 'node:http';
import { randomToken } from '@remoted/sdk/protocol';
import { effectiveTimeoutSeconds, MAX_WEBROUTE_ID_LENGTH, parseWebRouteRequest, routePath, upgradeKind } from '../../../../src/relay/port/webroute-handshake';

function request(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe('webroute handshake', () => {
  it('routes on the path alone, whatever the query or the target form', () => {
    expect(routePath('/db/primary?x=1#f')).toBe('/db/primary');
    expect(routePath('http://relay:1/db/primary?x')).toBe('/db/primary');
    expect(routePath(undefined)).toBe('/');
    expect(routePath('?only')).toBe('/');
  });

  it('tells websocket, webroute and other upgrades apart, in any case', () => {
    expect(upgradeKind(request({ upgrade: 'WebSocket' }))).toBe('websocket');
    expect(upgradeKind(request({ upgrade: 'webroute' }))).toBe('webroute');
    expect(upgradeKind(request({ upgrade: 'h2c' }))).toBe('other');
  });

  it('reads version, id and timeout', () => {
    expect(parseWebRouteRequest(request({ 'webroute-version': '1', 'webroute-id': 'abc', 'webroute-timeout': '90' }))).toEqual({
      ok: true,
      id: 'abc',
      requestedTimeoutSeconds: 90,
    });
    expect(parseWebRouteRequest(request({ 'webroute-version': '2', 'webroute-id': 'abc' }))).toEqual({ ok: false, problem: 'version' });
    expect(parseWebRouteRequest(request({ 'webroute-version': '1' }))).toEqual({ ok: false, problem: 'missing_id' });
    for (const bad of ['0', '-5', '1.5', 'ten', '']) {
      expect(parseWebRouteRequest(request({ 'webroute-version': '1', 'webroute-id': 'a', 'webroute-timeout': bad }))).toMatchObject({
        requestedTimeoutSeconds: undefined,
      });
    }
  });

  it('takes the ids our SDK and the original PHP SDK send (64 letters and digits), and refuses long or unsafe ones', () => {
    const withId = (id: string) => parseWebRouteRequest(request({ 'webroute-version': '1', 'webroute-id': id }));
    const phpStyle = 'aZ09'.repeat(16);
    for (const id of [randomToken(), phpStyle, '6fa1a1490ee0fe617b36530054e984786897e022', 'same-id', 'a.b_c~d', 'x'.repeat(MAX_WEBROUTE_ID_LENGTH)]) {
      expect(withId(id)).toMatchObject({ ok: true, id });
    }
    for (const id of ['x'.repeat(MAX_WEBROUTE_ID_LENGTH + 1), 'x'.repeat(8192), 'a b', 'a"b', 'a\\b', 'a/b', 'a,b', 'caf\u00e9', '{"id":1}']) {
      expect(withId(id)).toEqual({ ok: false, problem: 'bad_id' });
    }
  });

  it('takes the larger of the default and the requested timeout', () => {
    expect(effectiveTimeoutSeconds(60, undefined)).toBe(60);
    expect(effectiveTimeoutSeconds(60, 5)).toBe(60);
    expect(effectiveTimeoutSeconds(60, 300)).toBe(300);
  });
});
