import { holdsBytesAfter101, looksLikeOriginalPhpSdk } from '../../../../src/relay/port/legacy-peer';

describe('recognising the original PHP SDK', () => {
  it('is what WebRoute::Connect sends, in any case and order', () => {
    expect(looksLikeOriginalPhpSdk({ pragma: 'no-cache', connection: 'keep-alive, Upgrade' })).toBe(true);
    expect(looksLikeOriginalPhpSdk({ pragma: 'No-Cache', connection: 'upgrade,KEEP-ALIVE' })).toBe(true);
  });

  it('is not our SDK, a browser-less client or half of the signature', () => {
    expect(looksLikeOriginalPhpSdk({ connection: 'Upgrade' })).toBe(false);
    expect(looksLikeOriginalPhpSdk({ connection: 'keep-alive, Upgrade' })).toBe(false);
    expect(looksLikeOriginalPhpSdk({ pragma: 'no-cache', connection: 'Upgrade' })).toBe(false);
    expect(looksLikeOriginalPhpSdk({ pragma: 'no-cache, x', connection: 'keep-alive, Upgrade' })).toBe(false);
  });

  it('holds only where the setting and the peer say so; early-data always wins', () => {
    const php = { pragma: 'no-cache', connection: 'keep-alive, Upgrade' };
    const other = { connection: 'Upgrade' };
    expect(holdsBytesAfter101('auto', false, php)).toBe(true);
    expect(holdsBytesAfter101('auto', false, other)).toBe(false);
    expect(holdsBytesAfter101('always', false, other)).toBe(true);
    expect(holdsBytesAfter101('never', false, php)).toBe(false);
    expect(holdsBytesAfter101('always', true, php)).toBe(false);
  });
});
