/** Decides, per request, which usable key a secret names for a path. */
import type { ApiKey, KeyStore } from './api-key';
import { isUsable } from './api-key';
import { scopeAllows } from './path-scope';

export class KeyAuthenticator {
  constructor(private readonly store: KeyStore) {}

  /**
   * The key, when the secret names one that is neither revoked nor expired and
   * whose scopes allow the path; otherwise undefined, so that callers answer
   * every such case alike and nothing leaks which paths exist.
   */
  async authenticate(secret: string | undefined, path: string): Promise<ApiKey | undefined> {
    if (!secret) return undefined;
    const key = await this.store.findBySecret(secret);
    if (!key || !isUsable(key) || !scopeAllows(key.scopes, path)) return undefined;
    return key;
  }
}
