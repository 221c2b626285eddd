/**
 * The one gate of the control plane: every call but reflection and health
 * carries `authorization: Bearer <admin key>`. No key, or one that is
 * unknown, revoked or expired: UNAUTHENTICATED. A usable key of another
 * role: PERMISSION_DENIED.
 */
import { type Metadata, type ServerInterceptor, ServerInterceptingCall, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { KeyStore } from '../keys/api-key';
import { isUsable } from '../keys/api-key';

/** Services anyone may call: they reveal the schema and liveness, nothing of the relay. */
const PUBLIC_PREFIXES = ['/grpc.reflection.v1.', '/grpc.reflection.v1alpha.', '/grpc.health.v1.'];

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export type AuthVerdict = { ok: true; keyId: string } | { ok: false; code: status; details: string };

export async function checkAdmin(store: KeyStore, authorization: string | undefined): Promise<AuthVerdict> {
  if (!authorization) return { ok: false, code: status.UNAUTHENTICATED, details: 'missing "authorization: Bearer <admin key>" metadata' };
  const secret = BEARER.exec(authorization)?.[1];
  if (!secret) return { ok: false, code: status.UNAUTHENTICATED, details: 'authorization metadata must be "Bearer <admin key>"' };
  const key = await store.findBySecret(secret);
  if (!key || !isUsable(key)) return { ok: false, code: status.UNAUTHENTICATED, details: 'unknown, revoked or expired key' };
  if (key.role !== 'admin') return { ok: false, code: status.PERMISSION_DENIED, details: `key ${key.id} has role ${key.role}; the control plane needs an admin key` };
  return { ok: true, keyId: key.id };
}

export function createAdminAuthInterceptor(store: KeyStore, log: Logger): ServerInterceptor {
  return (method, call) => {
    if (PUBLIC_PREFIXES.some((prefix) => method.path.startsWith(prefix))) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          // grpc-js holds the request message until next() is called, so the
          // lookup may take its time.
          onReceiveMetadata: (metadata: Metadata, nextMetadata: (metadata: Metadata) => void) => {
            const value = metadata.get('authorization')[0];
            checkAdmin(store, typeof value === 'string' ? value : undefined).then(
              (verdict) => {
                if (verdict.ok) return nextMetadata(metadata);
                log.debug({ method: method.path, code: status[verdict.code] }, 'control-plane call refused');
                call.sendStatus({ code: verdict.code, details: verdict.details });
              },
              (err: unknown) => {
                log.error({ err, method: method.path }, 'bug: admin key check failed');
                call.sendStatus({ code: status.INTERNAL, details: 'internal error (logged by the relay)' });
              },
            );
          },
        });
      },
    });
  };
}
