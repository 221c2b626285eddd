/**
 * Secrets are stored as SHA-256 digests. Keys are 64 random characters (about
 * 381 bits), so a fast digest is enough: there is nothing to brute-force.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomToken } from '@remoted/sdk/wire/protocol';

export const SECRET_LENGTH = 64;

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time equality of two digests. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The secret of an `Authorization: Bearer <secret>` value (HTTP header or gRPC metadata), or undefined for any other form. */
export function bearerSecret(authorization: string): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

export function generateSecret(): string {
  return randomToken(SECRET_LENGTH);
}

/** A public key id: short, random, unrelated to the secret. */
export function generateKeyId(): string {
  return `key_${randomToken(16)}`;
}
