import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { ControlError } from '../../../src/control/control-error';
import { afterKeyOf, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, paginate, pageSizeOf, tokenAfter } from '../../../src/control/pagination';

const first = (pageSize: number) => ({ pageSize, pageToken: '' });

/** The refusal the control plane sends: a ControlError, INVALID_ARGUMENT, naming the request field. */
function refusal(run: () => unknown): ControlError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ControlError);
    return err as ControlError;
  }
  throw new Error('expected a refusal');
}

function expectRefused(run: () => unknown, field: 'page_size' | 'page_token'): void {
  const err = refusal(run);
  expect(err.code).toBe(status.INVALID_ARGUMENT);
  expect(err.message.startsWith(`${field}: `)).toBe(true);
}

/** Sort keys: ids, or `path\0id`; never empty, always well-formed UTF-16. */
const sortKey = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', '/', '\u0000', 'é'), minLength: 1, maxLength: 5 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
);

describe('pageSizeOf', () => {
  it('gives the default for 0 and the size asked up to the maximum', () => {
    expect(DEFAULT_PAGE_SIZE).toBe(100);
    expect(MAX_PAGE_SIZE).toBe(1000);
    expect(pageSizeOf(first(0))).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSizeOf(first(1))).toBe(1);
    expect(pageSizeOf(first(100))).toBe(100);
    expect(pageSizeOf(first(999))).toBe(999);
    expect(pageSizeOf(first(1000))).toBe(MAX_PAGE_SIZE);
  });

  it('caps a larger size at the maximum', () => {
    expect(pageSizeOf(first(1001))).toBe(MAX_PAGE_SIZE);
    expect(pageSizeOf(first(2 ** 31 - 1))).toBe(MAX_PAGE_SIZE);
  });

  it('refuses a negative size as INVALID_ARGUMENT on page_size, saying what it got', () => {
    expectRefused(() => pageSizeOf(first(-1)), 'page_size');
    expect(refusal(() => pageSizeOf(first(-7))).message).toContain('-7');
    expectRefused(() => pageSizeOf(first(-(2 ** 31))), 'page_size');
  });

  it('is 1..1000 for every size that is not negative', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (size) => {
        const got = pageSizeOf(first(size));
        expect(got).toBe(size === 0 ? DEFAULT_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE));
      }),
    );
  });
});

describe('page tokens', () => {
  it('reads no token as the first page', () => {
    expect(afterKeyOf(first(0))).toBeUndefined();
  });

  it('round-trips a sort key through its token', () => {
    for (const key of ['key_abc', '/a/b\u0000lst_1', 'é', '😀', '?>~']) {
      const token = tokenAfter(key);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(afterKeyOf({ pageSize: 0, pageToken: token })).toBe(key);
    }
  });

  it('round-trips any sort key (property)', () => {
    fc.assert(
      fc.property(sortKey, (key) => {
        expect(afterKeyOf({ pageSize: 0, pageToken: tokenAfter(key) })).toBe(key);
      }),
    );
  });

  it.each([
    ['not base64', 'not a token!'],
    ['padded', `${Buffer.from('a').toString('base64')}`],
    ['standard base64 characters', Buffer.from('~~~?').toString('base64')],
    ['trailing bits set', 'YR'],
    ['one character', 'Y'],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe]).toString('base64url')],
    ['broken by a space', 'a2V5 X2E'],
  ])('refuses a token that is %s as INVALID_ARGUMENT on page_token', (_what, pageToken) => {
    expect(pageToken).not.toBe('');
    expectRefused(() => afterKeyOf({ pageSize: 0, pageToken }), 'page_token');
  });

  it('either refuses any string as a token or reads the key that gives back that very token', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ minLength: 1 }), fc.base64String({ minLength: 1 }), fc.string({ unit: fc.constantFrom('A', 'b', '-', '_', '='), minLength: 1 })), (pageToken) => {
        let key: string | undefined;
        try {
          key = afterKeyOf({ pageSize: 0, pageToken });
        } catch (err) {
          expect(err).toBeInstanceOf(ControlError);
          expect((err as ControlError).code).toBe(status.INVALID_ARGUMENT);
          return;
        }
        expect(key).not.toBe('');
        expect(tokenAfter(key as string)).toBe(pageToken);
      }),
      { numRuns: 500 },
    );
  });
});

describe('paginate', () => {
  const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `id_${String(i).padStart(4, '0')}`);
  const self = (s: string): string => s;

  it('gives an empty page and no token for no items', () => {
    expect(paginate([], self, first(0))).toEqual({ items: [], nextPageToken: '' });
  });

  it('sorts the items by their key', () => {
    const items = [{ id: 'c' }, { id: 'a' }, { id: 'b' }];
    expect(paginate(items, (i) => i.id, first(0)).items.map((i) => i.id)).toEqual(['a', 'b', 'c']);
  });

  it('gives no token when the page holds the rest exactly, and a token when one more is left', () => {
    expect(paginate(ids(3), self, first(3))).toEqual({ items: ids(3), nextPageToken: '' });
    expect(paginate(ids(4), self, first(3))).toEqual({ items: ids(3), nextPageToken: tokenAfter('id_0002') });
  });

  it('starts a page after the token, also when its key is no longer there', () => {
    expect(paginate(ids(5), self, { pageSize: 2, pageToken: tokenAfter('id_0001') })).toEqual({
      items: ['id_0002', 'id_0003'],
      nextPageToken: tokenAfter('id_0003'),
    });
    const without = ids(5).filter((id) => id !== 'id_0001');
    expect(paginate(without, self, { pageSize: 2, pageToken: tokenAfter('id_0001') }).items).toEqual(['id_0002', 'id_0003']);
    expect(paginate(ids(5), self, { pageSize: 2, pageToken: tokenAfter('id_0004') })).toEqual({ items: [], nextPageToken: '' });
    expect(paginate(ids(5), self, { pageSize: 2, pageToken: tokenAfter('zzz') })).toEqual({ items: [], nextPageToken: '' });
  });

  it('uses the default page size for 0 and the maximum for more', () => {
    const all = ids(2500);
    expect(paginate(all, self, first(0)).items).toHaveLength(DEFAULT_PAGE_SIZE);
    const big = paginate(all, self, first(5000));
    expect(big.items).toEqual(all.slice(0, MAX_PAGE_SIZE));
    expect(big.nextPageToken).toBe(tokenAfter(all[MAX_PAGE_SIZE - 1]));
  });

  it('refuses a bad token or a negative size, the ControlError way', () => {
    expectRefused(() => paginate(ids(3), self, { pageSize: 1, pageToken: 'YQ==' }), 'page_token');
    expectRefused(() => paginate(ids(3), self, { pageSize: -1, pageToken: '' }), 'page_size');
  });

  it('walks every page of a random set in random page sizes, each item once, in order (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(sortKey, { maxLength: 300 }),
        fc.array(fc.oneof(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 1200 })), { minLength: 1, maxLength: 10 }),
        fc.infiniteStream(fc.nat()),
        (keys, sizes, noise) => {
          const expected = [...keys].sort();
          // Given in any order, as objects whose key is a field.
          const items = keys.map((key) => ({ key, n: noise.next().value }));
          const seen: string[] = [];
          let pageToken = '';
          for (let page = 0; ; page++) {
            const pageSize = sizes[page % sizes.length];
            const result = paginate(items, (i) => i.key, { pageSize, pageToken });
            const size = pageSizeOf({ pageSize, pageToken });
            expect(result.items.length).toBeLessThanOrEqual(size);
            seen.push(...result.items.map((i) => i.key));
            if (result.nextPageToken === '') break;
            // A token only when the page is full and more are left.
            expect(result.items).toHaveLength(size);
            expect(seen.length).toBeLessThan(expected.length);
            pageToken = result.nextPageToken;
            expect(page).toBeLessThan(expected.length);
          }
          expect(seen).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
