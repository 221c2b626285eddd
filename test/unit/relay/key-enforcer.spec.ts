/** keyLossFor: the one rule of why a key no longer holds a path, first reason first. */
import type { ApiKey } from '../../../src/keys/api-key';
import { isUsable } from '../../../src/keys/api-key';
import { keyLossFor } from '../../../src/relay/key-enforcer';

const NOW = Date.UTC(2026, 11, 1);

function key(over: Partial<ApiKey> = {}): ApiKey {
  return { id: 'key_a', role: 'server', label: '', scopes: [], createdAt: new Date(0), expiresAt: null, revokedAt: null, limits: {}, ...over };
}

describe('keyLossFor', () => {
  it('holds a usable key on a path its scopes allow', () => {
    expect(keyLossFor(key({ scopes: ['/db/*'] }), '/db/one', NOW)).toBeUndefined();
  });

  it('names revocation before expiry and expiry before scope', () => {
    const past = new Date(NOW - 1);
    expect(keyLossFor(key({ revokedAt: past, expiresAt: past, scopes: ['/x'] }), '/db', NOW)).toBe('key_revoked');
    expect(keyLossFor(key({ expiresAt: past, scopes: ['/x'] }), '/db', NOW)).toBe('key_expired');
    expect(keyLossFor(key({ scopes: ['/x'] }), '/db', NOW)).toBe('key_out_of_scope');
  });

  it('agrees with isUsable at the instant of expiry', () => {
    for (const offset of [-1, 0, 1]) {
      const k = key({ expiresAt: new Date(NOW + offset) });
      expect(keyLossFor(k, '/p', NOW) === undefined).toBe(isUsable(k, new Date(NOW)));
    }
  });
});
