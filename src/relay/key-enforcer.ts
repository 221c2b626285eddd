/**
 * What a key holds follows the key. A request is authenticated when it
 * arrives, but a listener, a spare, a waiting dial and a link live on after
 * that: this is where the relay keeps the latest word on each key that holds
 * something, checks it again where a decision is made (a listener picked, a
 * dial-back linked), and closes what a key may no longer hold when the key is
 * revoked, expires (seen by the relay's one sweep) or has its scopes narrowed.
 */
import { type KeyLossCode } from '@remoted/sdk/wire/protocol';
import type { ApiKey } from '../keys/api-key';
import { scopeAllows } from '../keys/path-scope';
import { endWaitingDialer } from './dials/end-waiting-dialer';
import type { DialsContext } from './dials/dials-context';
import type { KeyCheck } from './dials/link-broker';

export interface SeveredCounts {
  closedRoutes: number;
  closedLinks: number;
}

export interface KeyChangeOptions {
  /** Established links of a revoked or expired key run on (RevokeKeyRequest.keep_links). */
  keepLinks?: boolean;
}

/** Why a key lost a path, or undefined while it holds it. */
export function keyLossFor(key: ApiKey, path: string, nowMs: number): KeyLossCode | undefined {
  if (key.revokedAt !== null) return 'key_revoked';
  // isUsable's rule, without a Date per dial.
  if (key.expiresAt !== null && key.expiresAt.getTime() <= nowMs) return 'key_expired';
  if (!scopeAllows(key.scopes, path)) return 'key_out_of_scope';
  return undefined;
}

/** What the control plane may ask of the relay about a key's connections (RelayService implements it). */
export interface KeyHoldings {
  /** Listeners and links the key holds now (either side of a link). */
  heldBy(keyId: string): HeldCounts;
  /** Closes every listener, link and waiting dial of the key; the key stays usable. */
  closeKeyConnections(keyId: string): SeveredCounts;
}

export interface HeldCounts {
  routes: number;
  links: number;
}

export class KeyEnforcer implements KeyCheck {
  /**
   * The latest state of every key that passed authentication. Its size is
   * bounded by the key store's (only real keys authenticate); it is replaced
   * on each request and each change made through the control plane.
   */
  private readonly known = new Map<string, ApiKey>();
  /** Keys with an expiry that are not yet past it: the sweep looks at these only. */
  private readonly expiring = new Map<string, number>();

  constructor(private readonly ctx: DialsContext) {}

  /** A key that has just authenticated: its state as the store has it now. */
  observe(key: ApiKey): void {
    this.known.set(key.id, key);
    if (key.expiresAt !== null) this.expiring.set(key.id, key.expiresAt.getTime());
    else this.expiring.delete(key.id);
  }

  /** Whether the key may still be used on the path now; a key the relay never saw holds nothing. */
  holds(keyId: string, path: string): boolean {
    const key = this.known.get(keyId);
    return key !== undefined && keyLossFor(key, path, this.ctx.now()) === undefined;
  }

  /**
   * The key as it is after a change (update, revocation): closes at once what
   * it may no longer hold. A key the relay never saw may still hold nothing here.
   */
  apply(key: ApiKey, options: KeyChangeOptions = {}): SeveredCounts {
    this.observe(key);
    return this.closeLost(key, options);
  }

  /** Closes what the key, as last seen, may no longer hold (a decision found it lost a path between sweeps). */
  enforce(keyId: string): void {
    const key = this.known.get(keyId);
    if (key) this.closeLost(key, {});
  }

  heldBy(keyId: string): HeldCounts {
    let routes = 0;
    let links = 0;
    for (const listener of this.ctx.listeners.all()) if (listener.keyId === keyId) routes++;
    for (const link of this.ctx.links.all()) {
      // A destroyed link stays in the link table until its sockets have closed; it is held no more.
      if (link.isDestroyed) continue;
      const { dialerKeyId, listenerKeyId } = link.snapshot();
      if (dialerKeyId === keyId || listenerKeyId === keyId) links++;
    }
    return { routes, links };
  }

  /** Closes everything the key holds, whatever its state (CloseKeyConnections); the key stays usable. */
  closeAll(keyId: string): SeveredCounts {
    const links = [...this.ctx.links.all()].filter((link) => {
      if (link.isDestroyed) return false;
      const { dialerKeyId, listenerKeyId } = link.snapshot();
      return dialerKeyId === keyId || listenerKeyId === keyId;
    });
    const listeners = [...this.ctx.listeners.all()].filter((listener) => listener.keyId === keyId);
    for (const link of links) link.destroy('forced');
    for (const listener of listeners) listener.close('forced');
    // A dialer of this key still waiting would otherwise be linked when its listener dials back.
    for (const dialer of [...this.ctx.dialers.all()].filter((d) => d.key.id === keyId)) {
      endWaitingDialer(this.ctx, dialer, 'key_severed');
    }
    return { closedRoutes: listeners.length, closedLinks: links.length };
  }

  /** One look per sweep at keys whose expiry has come: what they hold is closed. */
  sweep(nowMs: number): void {
    for (const [keyId, expiresAtMs] of this.expiring) {
      if (expiresAtMs > nowMs) continue;
      this.expiring.delete(keyId);
      const key = this.known.get(keyId);
      if (key) this.closeLost(key, {});
    }
  }

  /**
   * Closes, in this order, what the key holds on paths it lost: links first
   * (once the listener is gone nothing new can join them), then listeners (their
   * spares are answered and the dialers told of them go elsewhere or get 502),
   * then spares still held for its listeners on other nodes, then its own
   * waiting dials (403).
   */
  private closeLost(key: ApiKey, options: KeyChangeOptions): SeveredCounts {
    const now = this.ctx.now();
    const lossOn = (path: string): KeyLossCode | undefined => keyLossFor(key, path, now);
    let closedLinks = 0;
    for (const link of [...this.ctx.links.all()]) {
      if (link.isDestroyed) continue;
      const { dialerKeyId, listenerKeyId, path } = link.snapshot();
      if (dialerKeyId !== key.id && listenerKeyId !== key.id) continue;
      const loss = lossOn(path);
      // Scopes are about paths, not time: keep_links is for revocation and expiry only.
      if (!loss || (options.keepLinks && loss !== 'key_out_of_scope')) continue;
      link.destroy(loss);
      closedLinks++;
    }
    let closedRoutes = 0;
    for (const listener of [...this.ctx.listeners.all()]) {
      if (listener.keyId !== key.id) continue;
      const loss = lossOn(listener.path);
      if (!loss) continue;
      listener.close(loss);
      closedRoutes++;
    }
    // Spares whose listener is on another node (cluster mode) are not closed with a listener here.
    for (const spare of this.ctx.spares.removeWhere((held) => held.keyId === key.id && lossOn(held.path) !== undefined)) spare.answerListenerGone();
    for (const dialer of [...this.ctx.dialers.all()]) {
      if (dialer.key.id === key.id && lossOn(dialer.path)) endWaitingDialer(this.ctx, dialer, 'key_severed');
    }
    if (closedRoutes + closedLinks > 0) {
      this.ctx.log.info({ key: key.id, closedRoutes, closedLinks }, 'closed what a key may no longer hold');
    }
    return { closedRoutes, closedLinks };
  }
}
