/** The node's table of dialers waiting for a dial-back: by path and WebRoute id, bounded per path, counted per key. */
import { Socket } from 'node:net';
import type { ApiKey } from '../../../../src/keys/api-key';
import { WaitingDialer } from '../../../../src/relay/dials/waiting-dialer';
import { WaitingDialerTable } from '../../../../src/relay/dials/waiting-dialer-table';

const keyOf = (id: string): ApiKey => ({ id, role: 'client', label: '', scopes: [], createdAt: new Date(0), expiresAt: null, revokedAt: null, limits: {} });

/** An unconnected socket: the dialer only pauses it, and the table never touches it. */
const dialer = (path: string, id: string, keyId = 'key_a'): WaitingDialer =>
  new WaitingDialer(path, id, new Socket(), Buffer.alloc(0), keyOf(keyId), '127.0.0.1:1', 60, 0, false);

describe('WaitingDialerTable', () => {
  it('finds a dialer by path and id, and refuses the same id twice on a path', () => {
    const table = new WaitingDialerTable();
    const a = dialer('/p', 'id1');
    expect(table.add(a, 10)).toBe('added');
    expect(table.add(dialer('/p', 'id1'), 10)).toBe('duplicate_id');
    expect(table.add(dialer('/q', 'id1'), 10)).toBe('added');
    expect(table.find('/p', 'id1')).toBe(a);
    expect(table.find('/p', 'id2')).toBeUndefined();
    expect(table.size).toBe(2);
  });

  it('holds at most maxPerRoute on one path, whatever the others hold', () => {
    const table = new WaitingDialerTable();
    expect(table.add(dialer('/p', 'a'), 2)).toBe('added');
    expect(table.add(dialer('/p', 'b'), 2)).toBe('added');
    expect(table.add(dialer('/p', 'c'), 2)).toBe('route_full');
    expect(table.add(dialer('/q', 'c'), 2)).toBe('added');
    expect([...table.on('/p')].map((d) => d.id)).toEqual(['a', 'b']);
  });

  it('removes only the very dialer it holds, once, and counts per key', () => {
    const table = new WaitingDialerTable();
    const mine = dialer('/p', 'a', 'key_1');
    table.add(mine, 10);
    table.add(dialer('/p', 'b', 'key_1'), 10);
    table.add(dialer('/q', 'c', 'key_2'), 10);
    expect(table.countOf('key_1')).toBe(2);
    expect(table.remove(dialer('/p', 'a', 'key_1'))).toBe(false);
    expect(table.remove(mine)).toBe(true);
    expect(table.remove(mine)).toBe(false);
    expect(table.countOf('key_1')).toBe(1);
    expect(table.countOf('key_2')).toBe(1);
    expect(table.size).toBe(2);
    expect([...table.all()].map((d) => d.id).sort()).toEqual(['b', 'c']);
  });
});
