/** The dialers waiting on this node for a listener's dial-back, by path and WebRoute id: the dials room's table. */
import { PerKeyCount } from '../routes/per-key-count';
import type { WaitingDialer } from './waiting-dialer';

export type AddDialerResult = 'added' | 'duplicate_id' | 'route_full';

const NONE: readonly WaitingDialer[] = [];

export class WaitingDialerTable {
  /** path -> (id -> dialer) */
  private readonly byPath = new Map<string, Map<string, WaitingDialer>>();
  private total = 0;
  private readonly perKey = new PerKeyCount();

  add(dialer: WaitingDialer, maxPerRoute: number): AddDialerResult {
    let byId = this.byPath.get(dialer.path);
    if (byId?.has(dialer.id)) return 'duplicate_id';
    if ((byId?.size ?? 0) >= maxPerRoute) return 'route_full';
    if (!byId) this.byPath.set(dialer.path, (byId = new Map()));
    byId.set(dialer.id, dialer);
    this.total++;
    this.perKey.add(dialer.key.id);
    return 'added';
  }

  find(path: string, id: string): WaitingDialer | undefined {
    return this.byPath.get(path)?.get(id);
  }

  /** False when it was not (or no longer) waiting. */
  remove(dialer: WaitingDialer): boolean {
    const byId = this.byPath.get(dialer.path);
    if (byId?.get(dialer.id) !== dialer) return false;
    byId.delete(dialer.id);
    this.total--;
    this.perKey.remove(dialer.key.id);
    if (byId.size === 0) this.byPath.delete(dialer.path);
    return true;
  }

  *all(): Iterable<WaitingDialer> {
    for (const byId of this.byPath.values()) yield* byId.values();
  }

  on(path: string): Iterable<WaitingDialer> {
    return this.byPath.get(path)?.values() ?? NONE;
  }

  get size(): number {
    return this.total;
  }

  /** Dialers of this (client) key waiting now. */
  countOf(keyId: string): number {
    return this.perKey.of(keyId);
  }
}
