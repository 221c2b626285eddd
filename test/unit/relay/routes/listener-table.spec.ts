/** The node's table of listeners: by path in joining order, by id, and counted per key. */
import fc from 'fast-check';
import { ListenerTable, type RouteListener } from '../../../../src/relay/routes/listener-table';
import { routeListener } from './route-listener';

const listener = (id: string, path: string, keyId = 'key_a'): RouteListener => routeListener(id, { path, keyId });

describe('ListenerTable', () => {
  it('keeps a path\'s listeners in the order they joined, and finds them by id', () => {
    const table = new ListenerTable();
    const [a, b, c] = [listener('a', '/p'), listener('b', '/p'), listener('c', '/q')];
    for (const l of [a, b, c]) table.add(l);
    expect(table.on('/p')).toEqual([a, b]);
    expect(table.on('/none')).toEqual([]);
    expect(table.find('c')).toBe(c);
    expect(table.size).toBe(3);
    expect(table.pathCount).toBe(2);
  });

  it('removes only the very listener it holds, once', () => {
    const table = new ListenerTable();
    const a = listener('a', '/p');
    table.add(a);
    expect(table.remove(listener('a', '/p'))).toBe(false);
    expect(table.remove(a)).toBe(true);
    expect(table.remove(a)).toBe(false);
    expect(table.size).toBe(0);
    expect(table.pathCount).toBe(0);
  });

  it('agrees with a plain list after any sequence of adds and removes', () => {
    const step = fc.record({ add: fc.boolean(), n: fc.integer({ min: 0, max: 7 }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const table = new ListenerTable();
        const pool = Array.from({ length: 8 }, (_, n) => listener(`l${n}`, `/p${n % 3}`, `key_${n % 2}`));
        let model: RouteListener[] = [];
        for (const { add, n } of steps) {
          const l = pool[n];
          if (add && !model.includes(l)) {
            table.add(l);
            model.push(l);
          } else if (!add) {
            expect(table.remove(l)).toBe(model.includes(l));
            model = model.filter((m) => m !== l);
          }
        }
        expect(table.size).toBe(model.length);
        expect([...table.all()].sort((x, y) => x.id.localeCompare(y.id))).toEqual([...model].sort((x, y) => x.id.localeCompare(y.id)));
        for (const path of ['/p0', '/p1', '/p2']) expect(table.on(path)).toEqual(model.filter((m) => m.path === path));
        for (const keyId of ['key_0', 'key_1']) expect(table.countOf(keyId)).toBe(model.filter((m) => m.keyId === keyId).length);
        expect(table.pathCount).toBe(new Set(model.map((m) => m.path)).size);
      }),
    );
  });
});
