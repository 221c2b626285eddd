/** The JSON the protocol sends is always one object: text frames and error bodies alike. */

/** The object a text holds, or undefined for anything else (not JSON, an array, a bare value). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // not JSON: nothing the protocol sends
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
