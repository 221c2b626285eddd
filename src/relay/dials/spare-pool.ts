/**
 * Every spare the relay holds, by listener (docs/protocol.md, spares). One
 * object for the whole relay, so the per-path bound and the expiry sweep see
 * all of them.
 */
import { PerKeyCount } from '../routes/per-key-count';
import type { SpareDialback } from './spare-dialback';

export class SparePool {
  /** listener id -> its spares, oldest first (a dial takes the oldest). */
  private readonly byListener = new Map<string, SpareDialback[]>();
  private readonly perPath = new Map<string, number>();
  private readonly perKey = new PerKeyCount();
  private total = 0;

  add(spare: SpareDialback): void {
    let list = this.byListener.get(spare.listenerId);
    if (!list) this.byListener.set(spare.listenerId, (list = []));
    list.push(spare);
    this.perPath.set(spare.path, (this.perPath.get(spare.path) ?? 0) + 1);
    this.perKey.add(spare.keyId);
    this.total++;
  }

  /** Takes the listener's oldest spare out of the pool. */
  take(listenerId: string): SpareDialback | undefined {
    const spare = this.byListener.get(listenerId)?.[0];
    if (spare) this.remove(spare);
    return spare;
  }

  /** False when it was not (or no longer) held. */
  remove(spare: SpareDialback): boolean {
    const list = this.byListener.get(spare.listenerId);
    const at = list?.indexOf(spare) ?? -1;
    if (!list || at === -1) return false;
    list.splice(at, 1);
    if (list.length === 0) this.byListener.delete(spare.listenerId);
    const onPath = (this.perPath.get(spare.path) ?? 1) - 1;
    if (onPath > 0) this.perPath.set(spare.path, onPath);
    else this.perPath.delete(spare.path);
    this.perKey.remove(spare.keyId);
    this.total--;
    return true;
  }

  /**
   * Takes the oldest spare of any listener on the path (cluster mode: spares
   * this node holds for listeners on other nodes, which a dial here can take
   * with no hop and no Redis operation).
   */
  takeOnPath(path: string): SpareDialback | undefined {
    if (!this.perPath.has(path)) return undefined;
    for (const list of this.byListener.values()) {
      if (list[0].path !== path) continue;
      const spare = list[0];
      this.remove(spare);
      return spare;
    }
    return undefined;
  }

  /** Removes and returns the spares the test picks (a key's, when it lost their path). */
  removeWhere(test: (spare: SpareDialback) => boolean): SpareDialback[] {
    const picked = [...this.byListener.values()].flat().filter(test);
    for (const spare of picked) this.remove(spare);
    return picked;
  }

  /** Removes and returns all spares of a listener. */
  removeListener(listenerId: string): SpareDialback[] {
    const list = [...(this.byListener.get(listenerId) ?? [])];
    for (const spare of list) this.remove(spare);
    return list;
  }

  /** Removes and returns every spare held. */
  removeAll(): SpareDialback[] {
    const all = [...this.byListener.values()].flat();
    for (const spare of all) this.remove(spare);
    return all;
  }

  hasId(listenerId: string, id: string): boolean {
    return this.byListener.get(listenerId)?.some((spare) => spare.id === id) ?? false;
  }

  countFor(listenerId: string): number {
    return this.byListener.get(listenerId)?.length ?? 0;
  }

  countOfKey(keyId: string): number {
    return this.perKey.of(keyId);
  }

  countOnPath(path: string): number {
    return this.perPath.get(path) ?? 0;
  }

  get size(): number {
    return this.total;
  }

  /** Removes and returns the spares held since before `bornBeforeMs`. */
  removeOlderThan(bornBeforeMs: number): SpareDialback[] {
    const old: SpareDialback[] = [];
    for (const list of this.byListener.values()) {
      for (const spare of list) {
        if (spare.sinceMs >= bornBeforeMs) break;
        old.push(spare);
      }
    }
    for (const spare of old) this.remove(spare);
    return old;
  }
}
