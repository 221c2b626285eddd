/**
 * Path scopes of a key. A pattern is a path where `*` stands for any run of
 * characters within one segment and `**` for any run across segments:
 * `/db/*` allows `/db/primary`, `/tenants/**` allows `/tenants/a/b`.
 *
 * Matching runs on every dial, on a path the dialer chose, so it must not
 * depend on backtracking: a pattern is simulated as a small automaton over
 * its positions, one step per path character, which costs at most
 * O(pattern × path) whatever the input (a backtracking RegExp of
 * `/p/*-*-*-*z` took seconds on a few hundred dashes).
 */

/** Longest pattern a key may be given; the matcher itself has no limit, so stored keys made before it keep working. */
export const MAX_SCOPE_LENGTH = 256;
/** Most wildcards (`*` or `**`) in one pattern a key may be given. */
export const MAX_SCOPE_WILDCARDS = 16;

/** A compiled pattern: a character code for a literal, or one of the two wildcards. */
const STAR = -1;
const GLOBSTAR = -2;
const SLASH = 0x2f;

/**
 * Compiled patterns, by pattern. Patterns come from stored keys, not from
 * requests, but the cache is bounded anyway so that churn of keys cannot
 * grow it without end.
 */
const MAX_CACHED_PATTERNS = 10_000;
const cache = new Map<string, Int32Array>();

export function validateScope(pattern: string): string | undefined {
  // The length goes first, and without the pattern, so that a huge one is neither scanned twice nor echoed.
  if (pattern.length > MAX_SCOPE_LENGTH) return `a scope has ${pattern.length} characters; at most ${MAX_SCOPE_LENGTH}`;
  if (!pattern.startsWith('/')) return `scope "${pattern}" must start with "/"`;
  if (/[\s?#]/.test(pattern)) return `scope "${pattern}" must not contain white space, "?" or "#"`;
  if (/\*{3,}/.test(pattern)) return `scope "${pattern}" has more than two "*" in a row`;
  const wildcards = compile(pattern).filter((token) => token < 0).length;
  if (wildcards > MAX_SCOPE_WILDCARDS) return `scope "${pattern}" has ${wildcards} wildcards ("*" or "**"); at most ${MAX_SCOPE_WILDCARDS}`;
  return undefined;
}

export function scopeAllows(scopes: readonly string[], path: string): boolean {
  if (scopes.length === 0) return true;
  return scopes.some((pattern) => globMatches(compiled(pattern), path));
}

function compiled(pattern: string): Int32Array {
  let tokens = cache.get(pattern);
  if (!tokens) {
    tokens = compile(pattern);
    if (cache.size >= MAX_CACHED_PATTERNS) cache.clear();
    cache.set(pattern, tokens);
  }
  return tokens;
}

/** `**` is taken before `*`, so `***` (refused for new keys) reads as `**` then `*`: any run, as the RegExp form read it. */
function compile(pattern: string): Int32Array {
  const tokens: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const code = pattern.charCodeAt(i);
    if (code !== 0x2a) tokens.push(code);
    else if (pattern.charCodeAt(i + 1) === 0x2a) {
      tokens.push(GLOBSTAR);
      i++;
    } else tokens.push(STAR);
  }
  return Int32Array.from(tokens);
}

/**
 * The set of pattern positions the path so far can have reached, advanced one
 * path character at a time. Position n (past the end) reached after the last
 * character means a match.
 */
function globMatches(tokens: Int32Array, path: string): boolean {
  const n = tokens.length;
  let current = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  reach(current, tokens, 0);
  for (let j = 0; j < path.length; j++) {
    const code = path.charCodeAt(j);
    next.fill(0);
    let alive = false;
    for (let i = 0; i < n; i++) {
      if (current[i] === 0) continue;
      const token = tokens[i];
      if (token === GLOBSTAR || (token === STAR && code !== SLASH)) {
        reach(next, tokens, i);
        alive = true;
      } else if (token === code) {
        reach(next, tokens, i + 1);
        alive = true;
      }
    }
    if (!alive) return false;
    [current, next] = [next, current];
  }
  return current[n] === 1;
}

/**
 * Marks a position and every one after it that a run of wildcards can skip
 * (a wildcard may match nothing). A position already marked has had its
 * followers marked too, so each position is marked once per step.
 */
function reach(set: Uint8Array, tokens: Int32Array, from: number): void {
  for (let i = from; i <= tokens.length && set[i] === 0; i++) {
    set[i] = 1;
    if (i === tokens.length || tokens[i] >= 0) return;
  }
}
