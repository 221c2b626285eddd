import { scopeAllows, validateScope } from '../../src/keys/path-scope';

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
});
