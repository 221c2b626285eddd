/**
 * The X-Remoted-Features header (extension): comma-separated tokens a peer
 * asks for or declares (`early-data`, `drain`, `spare`, `refuse`), and what a
 * relay's 101 grants. Tokens are compared without case; spaces around commas
 * do not count.
 */

export function encodeFeatures(tokens: readonly string[]): string {
  return tokens.join(', ');
}

/** The tokens of a header value (Node gives a repeated header as an array: one list), lower case, in order. */
export function parseFeatures(headerValue: string | string[] | undefined): string[] {
  const text = Array.isArray(headerValue) ? headerValue.join(',') : (headerValue ?? '');
  return text
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '');
}

/** True when a X-Remoted-Features value lists the feature. */
export function hasFeature(headerValue: string | string[] | undefined, feature: string): boolean {
  return parseFeatures(headerValue).includes(feature);
}
