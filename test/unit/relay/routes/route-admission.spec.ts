/** Who may join a path and which listener a dial goes to (docs/protocol.md, route policies). */
import type { RoutePolicy } from '../../../../src/keys/route-policy';
import { admitListener, pickListener } from '../../../../src/relay/routes/route-admission';
import type { RouteListener } from '../../../../src/relay/routes/listener-table';
import { routeListener, type RouteListenerFields } from './route-listener';

const listener = (id: string, over: Omit<RouteListenerFields, 'path'> = {}): RouteListener => routeListener(id, over);

const key = (policy: RoutePolicy, poolSize = 2) => ({ id: 'key_a', policy, poolSize });

describe('admitListener', () => {
  it('admits anyone to an empty path', () => {
    expect(admitListener([], key('exclusive'))).toEqual({ admitted: true, replaces: [] });
  });

  it('refuses another key whatever the policy, draining holders included', () => {
    for (const policy of ['exclusive', 'takeover', 'pool'] as const) {
      const result = admitListener([listener('l1', { keyId: 'key_b', state: 'draining' })], key(policy));
      expect(result).toEqual({ admitted: false, message: 'Another key is listening on this path.' });
    }
  });

  it('exclusive refuses a second active listener; takeover replaces every active one', () => {
    const held = [listener('l1'), listener('l2', { state: 'draining' })];
    expect(admitListener(held, key('exclusive')).admitted).toBe(false);
    const takeover = admitListener(held, key('takeover'));
    expect(takeover.admitted && takeover.replaces.map((l) => l.id)).toEqual(['l1']);
  });

  it('pool admits up to the pool size of active listeners; draining ones do not count', () => {
    expect(admitListener([listener('l1')], key('pool', 2))).toEqual({ admitted: true, replaces: [] });
    expect(admitListener([listener('l1'), listener('l2')], key('pool', 2))).toEqual({
      admitted: false,
      message: 'The pool on this path is full (2 of 2 listeners).',
    });
    expect(admitListener([listener('l1'), listener('l2', { state: 'draining' })], key('pool', 2)).admitted).toBe(true);
  });

  it('admits a new listener to a path whose listeners all drain, even exclusive', () => {
    expect(admitListener([listener('l1', { state: 'draining' })], key('exclusive'))).toEqual({ admitted: true, replaces: [] });
  });
});

describe('pickListener', () => {
  it('picks an active listener with a spare first, then the fewest links, then the least recently offered', () => {
    const onPath = [
      listener('busy', { activeLinks: 5, spareCount: 1 }),
      listener('idle', { activeLinks: 0, lastOffer: 3 }),
      listener('idle2', { activeLinks: 0, lastOffer: 7 }),
      listener('drained', { state: 'draining', spareCount: 3 }),
    ];
    expect(pickListener(onPath)?.id).toBe('busy');
    expect(pickListener(onPath, new Set(), false)?.id).toBe('idle');
    expect(pickListener(onPath, new Set(['idle']), false)?.id).toBe('idle2');
    expect(pickListener(onPath, new Set(['busy', 'idle', 'idle2']), false)).toBeUndefined();
  });
});
