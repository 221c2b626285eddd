/** How many of something each key holds now; only keys that hold one have an entry, so it shrinks as they go. */
export class PerKeyCount {
  private readonly counts = new Map<string, number>();

  of(keyId: string): number {
    return this.counts.get(keyId) ?? 0;
  }

  add(keyId: string): void {
    this.counts.set(keyId, this.of(keyId) + 1);
  }

  remove(keyId: string): void {
    const left = this.of(keyId) - 1;
    if (left > 0) this.counts.set(keyId, left);
    else this.counts.delete(keyId);
  }
}
