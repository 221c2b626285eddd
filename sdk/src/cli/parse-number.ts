/** Option parsers for commander: a bad number is a usage error. */
import { CliError } from './exit-codes';

export function parseMs(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new CliError('invalid_option', `Expected milliseconds (a whole number), got "${text}".`);
  return value;
}
