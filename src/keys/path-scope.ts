/**
 * Path scopes of a key. A pattern is a path where `*` stands for any run of
 * characters within one segment and `**` for any run across segments:
 * `/db/*` allows `/db/primary`, `/tenants/**` allows `/tenants/a/b`.
 */
const cache = new Map<string, RegExp>();

export function validateScope(pattern: string): string | undefined {
  if (!pattern.startsWith('/')) return `scope "${pattern}" must start with "/"`;
  if (/[\s?#]/.test(pattern)) return `scope "${pattern}" must not contain white space, "?" or "#"`;
  if (/\*{3,}/.test(pattern)) return `scope "${pattern}" has more than two "*" in a row`;
  return undefined;
}

export function scopeAllows(scopes: readonly string[], path: string): boolean {
  if (scopes.length === 0) return true;
  return scopes.some((pattern) => compile(pattern).test(path));
}

function compile(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = pattern
      .split(/(\*\*|\*)/)
      .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`);
    cache.set(pattern, re);
  }
  return re;
}
