import fc from 'fast-check';
import { MAX_SCOPE_LENGTH, MAX_SCOPE_WILDCARDS, scopeAllows, validateScope } from '../../../src/keys/path-scope';

/**
 * The meaning of a pattern, written as plainly as possible: `**` any run,
 * `*` any run without "/", anything else itself. Memoised on the two
 * positions so that it stays quick on the small inputs it is given.
 */
function referenceAllows(pattern: string, path: string): boolean {
  const memo = new Map<number, boolean>();
  const at = (p: number, s: number): boolean => {
    const memoKey = p * (path.length + 1) + s;
    const known = memo.get(memoKey);
    if (known !== undefined) return known;
    let result: boolean;
    if (p === pattern.length) result = s === path.length;
    else if (pattern.startsWith('**', p)) result = at(p + 2, s) || (s < path.length && at(p, s + 1));
    else if (pattern[p] === '*') result = at(p + 1, s) || (s < path.length && path[s] !== '/' && at(p, s + 1));
    else result = s < path.length && path[s] === pattern[p] && at(p + 1, s + 1);
    memo.set(memoKey, result);
    return result;
  };
  return at(0, 0);
}

/** Few distinct characters, so that literals of a pattern and a path meet often. */
const pathChar = fc.constantFrom('/', 'a', 'b', '-');
const patternPart = fc.oneof(pathChar, pathChar, fc.constant('*'), fc.constant('**'));
const pattern = fc.array(patternPart, { maxLength: 12 }).map((parts) => `/${parts.join('')}`);
const path = fc.array(pathChar, { maxLength: 20 }).map((chars) => `/${chars.join('')}`);

/** A path the pattern must allow: each wildcard replaced by a run it may stand for. */
const patternWithInstance = fc.array(patternPart, { maxLength: 12 }).chain((parts) =>
  fc
    .tuple(
      ...parts.map((part) =>
        part === '**'
          ? fc.array(pathChar, { maxLength: 6 }).map((cs) => cs.join(''))
          : part === '*'
            ? fc.array(fc.constantFrom('a', 'b', '-'), { maxLength: 6 }).map((cs) => cs.join(''))
            : fc.constant(part),
      ),
    )
    .map((runs) => ({ pattern: `/${parts.join('')}`, path: `/${runs.join('')}` })),
);

function elapsedMs(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

describe('path scopes', () => {
  it('allows every path when a key has no scopes', () => {
    expect(scopeAllows([], '/anything/at/all')).toBe(true);
  });

  it.each([
    ['/db/primary', '/db/primary', true],
    ['/db/primary', '/db/primary2', false],
    ['/db/*', '/db/primary', true],
    ['/db/*', '/db/a/b', false],
    ['/db/*', '/db/', true],
    ['/tenants/**', '/tenants/a/b/c', true],
    ['/tenants/**', '/other/a', false],
    ['/a.b', '/aXb', false],
    ['/x/*/y', '/x/1/y', true],
  ])('%s against %s: %s', (pattern, path, allowed) => {
    expect(scopeAllows([pattern], path)).toBe(allowed);
  });

  it('rejects patterns that cannot match a path', () => {
    expect(validateScope('db/*')).toMatch(/must start with/);
    expect(validateScope('/a b')).toMatch(/white space/);
    expect(validateScope('/a/***')).toMatch(/more than two/);
    expect(validateScope('/ok/**')).toBeUndefined();
  });

  it('matches as the reference does, for any pattern and path', () => {
    fc.assert(
      fc.property(pattern, path, (p, s) => scopeAllows([p], s) === referenceAllows(p, s)),
      { numRuns: 5000 },
    );
  });

  it('allows every path made by filling in the wildcards of a pattern', () => {
    fc.assert(fc.property(patternWithInstance, ({ pattern: p, path: s }) => scopeAllows([p], s)), { numRuns: 2000 });
  });

  it('matches a pathological pattern in linear time (a backtracking RegExp took seconds)', () => {
    const path = `/p/${'-'.repeat(340)}`;
    expect(elapsedMs(() => expect(scopeAllows(['/p/*-*-*-*z'], path)).toBe(false))).toBeLessThan(1000);
  });

  it('matches the largest patterns a key may have against the longest path a request may carry, quickly', () => {
    const worst = `/${'*-'.repeat(MAX_SCOPE_WILDCARDS)}`.padEnd(MAX_SCOPE_LENGTH - 1, '-') + 'z';
    expect(validateScope(worst)).toBeUndefined();
    const scopes = Array.from({ length: 100 }, () => worst);
    const path = `/${'-'.repeat(1023)}`;
    expect(elapsedMs(() => expect(scopeAllows(scopes, path)).toBe(false))).toBeLessThan(2000);
  });

  it('bounds the length and the wildcards of a new pattern, without echoing a long one', () => {
    expect(validateScope(`/${'a'.repeat(MAX_SCOPE_LENGTH - 1)}`)).toBeUndefined();
    const long = validateScope(`/${'a'.repeat(MAX_SCOPE_LENGTH)}`);
    expect(long).toMatch(new RegExp(`at most ${MAX_SCOPE_LENGTH}`));
    expect(long).not.toContain('aaaa');
    expect(validateScope(`/${'*/'.repeat(MAX_SCOPE_WILDCARDS)}`)).toBeUndefined();
    expect(validateScope(`/${'*/'.repeat(MAX_SCOPE_WILDCARDS + 1)}`)).toMatch(new RegExp(`at most ${MAX_SCOPE_WILDCARDS}`));
    expect(validateScope(`/${'**/'.repeat(MAX_SCOPE_WILDCARDS + 1)}`)).toMatch(/wildcards/);
  });

  it('still matches a stored pattern made before the bounds, though a new key may not get it', () => {
    const stored = `/${'*/'.repeat(MAX_SCOPE_WILDCARDS + 4)}${'x'.repeat(MAX_SCOPE_LENGTH)}`;
    expect(validateScope(stored)).toBeDefined();
    expect(scopeAllows([stored], `/${'a/'.repeat(MAX_SCOPE_WILDCARDS + 4)}${'x'.repeat(MAX_SCOPE_LENGTH)}`)).toBe(true);
    expect(scopeAllows([stored], `/${'a/'.repeat(MAX_SCOPE_WILDCARDS + 3)}${'x'.repeat(MAX_SCOPE_LENGTH)}`)).toBe(false);
  });
});
