/** Injection token of the KeyStore. */
export const KEY_STORE = Symbol('remoted:key-store');
