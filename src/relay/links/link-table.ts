/** The links open on this node, by id: the links room's table. */
import type { Link } from './link';

export class LinkTable {
  private readonly byId = new Map<string, Link>();

  add(link: Link): void {
    this.byId.set(link.id, link);
  }

  remove(link: Link): void {
    if (this.byId.get(link.id) === link) this.byId.delete(link.id);
  }

  find(id: string): Link | undefined {
    return this.byId.get(id);
  }

  all(): Iterable<Link> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }
}
