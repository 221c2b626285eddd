/**
 * Sessions of the status page: a random id in an HttpOnly, SameSite=Strict
 * cookie, and a CSRF token of its own that every action must carry in a
 * header (the cookie alone never authorizes an action). Bounded: past
 * `maxSessions` the oldest session ends; each ends at its expiry, at its
 * key's expiry if that comes first, at logout, and when its key is revoked.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'remoted_status';
/** base64url of 32 random bytes. */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface StatusSession {
  id: string;
  csrfToken: string;
  /** The admin key that logged in (its id, never its secret). */
  keyId: string;
  expiresAtMs: number;
}

export interface SessionTableOptions {
  maxSessions: number;
  ttlMs: number;
}

export class SessionTable {
  /** Insertion-ordered: the first is the oldest. */
  private readonly sessions = new Map<string, StatusSession>();

  constructor(
    private readonly opts: SessionTableOptions,
    private readonly now: () => number = Date.now,
  ) {}

  create(keyId: string, keyExpiresAt: Date | null): StatusSession {
    while (this.sessions.size >= this.opts.maxSessions) {
      const oldest = this.sessions.keys().next();
      if (oldest.done) break;
      this.sessions.delete(oldest.value);
    }
    const ttlEnd = this.now() + this.opts.ttlMs;
    const session: StatusSession = {
      id: newToken(),
      csrfToken: newToken(),
      keyId,
      expiresAtMs: keyExpiresAt ? Math.min(ttlEnd, keyExpiresAt.getTime()) : ttlEnd,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session of a cookie value; an expired one is ended here. */
  find(id: string | undefined): StatusSession | undefined {
    if (id === undefined || !TOKEN_PATTERN.test(id)) return undefined;
    const session = this.sessions.get(id);
    if (session && session.expiresAtMs <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /** Ends every session of a key (revoked); returns how many ended. */
  endForKey(keyId: string): number {
    let ended = 0;
    for (const [id, session] of this.sessions) {
      if (session.keyId !== keyId) continue;
      this.sessions.delete(id);
      ended++;
    }
    return ended;
  }

  get size(): number {
    return this.sessions.size;
  }
}

/** Whether a header's CSRF token is the session's, compared in constant time. */
export function csrfTokenMatches(session: StatusSession, given: string | undefined): boolean {
  if (given === undefined || !TOKEN_PATTERN.test(given)) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(session.csrfToken));
}

function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}
