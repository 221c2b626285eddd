/** Sessions of the status page: random, bounded, expiring, ended by key. */
import { csrfTokenMatches, SessionTable } from '../../../src/status/status-session';

describe('SessionTable', () => {
  let nowMs = 1_000_000;
  const now = () => nowMs;

  it('gives random ids and CSRF tokens, and finds a session by its id only', () => {
    const table = new SessionTable({ maxSessions: 10, ttlMs: 60_000 }, now);
    const a = table.create('k1', null);
    const b = table.create('k1', null);
    expect(a.id).not.toBe(b.id);
    expect(a.csrfToken).not.toBe(a.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(table.find(a.id)).toBe(a);
    expect(table.find('x'.repeat(43))).toBeUndefined();
    expect(table.find(undefined)).toBeUndefined();
    expect(table.find(`${a.id};`)).toBeUndefined();
  });

  it('ends a session at its expiry, or at its key\'s expiry when that is sooner', () => {
    const table = new SessionTable({ maxSessions: 10, ttlMs: 60_000 }, now);
    const plain = table.create('k1', null);
    const short = table.create('k2', new Date(nowMs + 1000));
    nowMs += 1000;
    expect(table.find(short.id)).toBeUndefined();
    expect(table.find(plain.id)).toBe(plain);
    nowMs += 59_000;
    expect(table.find(plain.id)).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('holds at most maxSessions: the oldest ends first', () => {
    const table = new SessionTable({ maxSessions: 2, ttlMs: 60_000 }, now);
    const first = table.create('k', null);
    const second = table.create('k', null);
    const third = table.create('k', null);
    expect(table.size).toBe(2);
    expect(table.find(first.id)).toBeUndefined();
    expect(table.find(second.id)).toBe(second);
    expect(table.find(third.id)).toBe(third);
  });

  it('ends every session of a revoked key, and one at logout', () => {
    const table = new SessionTable({ maxSessions: 10, ttlMs: 60_000 }, now);
    const a = table.create('revoked', null);
    table.create('revoked', null);
    const other = table.create('kept', null);
    expect(table.endForKey('revoked')).toBe(2);
    expect(table.find(a.id)).toBeUndefined();
    table.end(other.id);
    expect(table.size).toBe(0);
  });
});

describe('csrfTokenMatches', () => {
  it('takes the session\'s token and nothing else', () => {
    const session = new SessionTable({ maxSessions: 1, ttlMs: 1000 }).create('k', null);
    expect(csrfTokenMatches(session, session.csrfToken)).toBe(true);
    expect(csrfTokenMatches(session, session.id)).toBe(false);
    expect(csrfTokenMatches(session, undefined)).toBe(false);
    expect(csrfTokenMatches(session, '')).toBe(false);
    expect(csrfTokenMatches(session, `${session.csrfToken}x`)).toBe(false);
  });
});
