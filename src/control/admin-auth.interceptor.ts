/**
 * The one gate of the control plane: every call but reflection and health
 * carries `authorization: Bearer <admin key>`. Anything else is
 * UNAUTHENTICATED, and every bearer that is not a usable admin key (unknown,
 * revoked, expired, or a key of another role) gets the same words: a stolen
 * data-plane key must not be confirmed as a key. Failures are counted per
 * source address (AuthThrottle, its own table: the data plane's failures do
 * not throttle the control plane, nor the reverse); past the limit every
 * call from that address is RESOURCE_EXHAUSTED until the window ends.
 */
import { Metadata, type ServerInterceptingCallInterface, type ServerInterceptor, ServerInterceptingCall, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { KeyStore } from '../keys/api-key';
import { isUsable } from '../keys/api-key';
import { bearerSecret } from '../keys/key-secret';
import { toServiceError } from './control-error';
import type { AuthThrottle } from '../keys/auth-throttle';

/** Services anyone may call: they reveal the schema and liveness, nothing of the relay. */
const PUBLIC_PREFIXES = ['/grpc.reflection.v1.', '/grpc.reflection.v1alpha.', '/grpc.health.v1.'];

/** What every bearer that is not a usable admin key is told: nothing about the key. */
export const BAD_BEARER_DETAILS = 'the bearer is not a valid admin key';

/** gRPC's own retry hint (gRFC A6): clients that retry wait this long. */
const RETRY_PUSHBACK_HEADER = 'grpc-retry-pushback-ms';

export type AuthVerdict = { ok: true; keyId: string } | { ok: false; code: status; details: string; reason: string };

export async function checkAdmin(store: KeyStore, authorization: string | undefined): Promise<AuthVerdict> {
  const refuse = (details: string, reason: string): AuthVerdict => ({ ok: false, code: status.UNAUTHENTICATED, details, reason });
  if (!authorization) return refuse('missing "authorization: Bearer <admin key>" metadata', 'missing');
  const secret = bearerSecret(authorization);
  if (!secret) return refuse('authorization metadata must be "Bearer <admin key>"', 'malformed');
  const key = await store.findBySecret(secret);
  if (!key) return refuse(BAD_BEARER_DETAILS, 'unknown');
  if (!isUsable(key)) return refuse(BAD_BEARER_DETAILS, 'revoked_or_expired');
  if (key.role !== 'admin') return refuse(BAD_BEARER_DETAILS, 'not_admin');
  return { ok: true, keyId: key.id };
}

export interface AdminAuthOptions {
  store: KeyStore;
  log: Logger;
  /** Failed authentications on the control plane, per source address. */
  throttle: AuthThrottle;
  now: () => number;
  /**
   * Reflection and health calls open at once, over all connections. They need
   * no key, so that grpc_health_probe and `grpcurl list` / `buf curl
   * --list-methods` work as they are; but a Health/Watch or reflection stream
   * stays open as long as its client likes, and each holds memory. A small
   * global cap bounds what strangers hold, and an admin's calls never count
   * against it.
   */
  maxUnauthenticatedCalls: number;
}

export function createAdminAuthInterceptor(opts: AdminAuthOptions): ServerInterceptor {
  const { store, log, throttle, now, maxUnauthenticatedCalls } = opts;
  let openPublicCalls = 0;
  const publicCall = (call: ServerInterceptingCallInterface): ServerInterceptingCall => {
    let open = false;
    const end = (): void => {
      if (open) openPublicCalls--;
      open = false;
    };
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata: Metadata, nextMetadata: (metadata: Metadata) => void) => {
            if (openPublicCalls >= maxUnauthenticatedCalls) {
              call.sendStatus({ code: status.RESOURCE_EXHAUSTED, details: 'too many calls without a key are open; try again later' });
              return;
            }
            openPublicCalls++;
            open = true;
            nextMetadata(metadata);
          },
          // A call ends either way: its status is sent, or its client goes away.
          onCancel: end,
        });
      },
      sendStatus: (callStatus, nextStatus) => {
        end();
        nextStatus(callStatus);
      },
    });
  };
  return (method, call) => {
    if (PUBLIC_PREFIXES.some((prefix) => method.path.startsWith(prefix))) return publicCall(call);
    const address = peerAddress(call.getPeer());
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          // grpc-js holds the request message until next() is called, so the
          // lookup may take its time.
          onReceiveMetadata: (metadata: Metadata, nextMetadata: (metadata: Metadata) => void) => {
            const retryAfterMs = throttle.retryAfterMs(address, now());
            if (retryAfterMs > 0) {
              const seconds = Math.ceil(retryAfterMs / 1000);
              const trailers = new Metadata();
              trailers.set(RETRY_PUSHBACK_HEADER, String(retryAfterMs));
              call.sendStatus({
                code: status.RESOURCE_EXHAUSTED,
                details: `too many failed authentications from this address; retry in ${seconds} s`,
                metadata: trailers,
              });
              return;
            }
            const value = metadata.get('authorization')[0];
            checkAdmin(store, typeof value === 'string' ? value : undefined).then(
              (verdict) => {
                if (verdict.ok) return nextMetadata(metadata);
                throttle.recordFailure(address, now());
                if (throttle.retryAfterMs(address, now()) > 0) log.warn({ address }, 'control plane: address throttled after repeated failed authentications');
                log.debug({ method: method.path, reason: verdict.reason }, 'control-plane call refused');
                call.sendStatus({ code: verdict.code, details: verdict.details });
              },
              (err: unknown) => {
                const { code, details } = toServiceError(err, log, method.path);
                call.sendStatus({ code: code ?? status.INTERNAL, details: details ?? '' });
              },
            );
          },
        });
      },
    });
  };
}

/** The address of grpc-js' `host:port` peer string (`::1:5000` for IPv6: the port is after the last colon). */
export function peerAddress(peer: string): string {
  const address = peer.replace(/:\d+$/, '');
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}
