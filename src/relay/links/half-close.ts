/**
 * The half-close rule of a link, stated once for the relay's own splice
 * (link.ts) and the splice worker's: a link passes a FIN on as a FIN, so a
 * side may stay open after the other sent one. But a side that closed before
 * it sent its FIN, or while the other side still had bytes for it, leaves the
 * other with no peer: that one is destroyed. After a clean exchange of FINs
 * both close on their own.
 */
import type { Socket } from 'node:net';

export function leavesPeerAlone(closed: Socket, other: Socket): boolean {
  return !closed.readableEnded || !other.readableEnded;
}
