/**
 * Whether a new listener may join a path, and whom it replaces
 * (docs/protocol.md, route policies). Pure, so every rule is tested alone.
 */
import type { RoutePolicy } from '../../keys/route-policy';
import type { RouteListener } from './listener-table';

export interface JoiningKey {
  id: string;
  policy: RoutePolicy;
  poolSize: number;
}

export type Admission =
  | { admitted: true; replaces: readonly RouteListener[] }
  | { admitted: false; message: string };

const NOBODY: readonly RouteListener[] = [];

export function admitListener(onPath: readonly RouteListener[], key: JoiningKey): Admission {
  if (onPath.length === 0) return { admitted: true, replaces: NOBODY };
  // One key per path: the dial-back check trusts any listener of the path's key.
  if (onPath.some((listener) => listener.keyId !== key.id)) {
    return { admitted: false, message: 'Another key is listening on this path.' };
  }
  const active = onPath.filter((listener) => listener.state === 'active');
  if (active.length === 0) return { admitted: true, replaces: NOBODY };
  switch (key.policy) {
    case 'exclusive':
      return { admitted: false, message: 'Another listener is already listening on this path.' };
    case 'takeover':
      return { admitted: true, replaces: active };
    case 'pool':
      if (active.length >= key.poolSize) {
        return { admitted: false, message: `The pool on this path is full (${active.length} of ${key.poolSize} listeners).` };
      }
      return { admitted: true, replaces: NOBODY };
  }
}

/**
 * The listener a dial goes to: active, holding a spare if any does, then the
 * fewest open links, then the one offered a dial least recently (so short
 * links spread over a pool too). `skip`: listeners already tried.
 */
export function pickListener(
  onPath: readonly RouteListener[],
  skip: ReadonlySet<string> = new Set(),
  preferSpares = true,
): RouteListener | undefined {
  let best: RouteListener | undefined;
  let bestHasSpare = false;
  for (const listener of onPath) {
    if (listener.state !== 'active' || skip.has(listener.id)) continue;
    const hasSpare = preferSpares && listener.spareCount > 0;
    if (!best || (hasSpare && !bestHasSpare) || (hasSpare === bestHasSpare && fewerOrStaler(listener, best))) {
      best = listener;
      bestHasSpare = hasSpare;
    }
  }
  return best;
}

function fewerOrStaler(a: RouteListener, b: RouteListener): boolean {
  return a.activeLinks < b.activeLinks || (a.activeLinks === b.activeLinks && a.lastOffer < b.lastOffer);
}
