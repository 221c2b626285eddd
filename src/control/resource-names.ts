/**
 * Resource names of the admin API: `keys/{id}`, `routes/{listener id}`,
 * `links/{id}`. Requests also accept the bare id, which is what people copy
 * from logs and tables.
 */
import { invalidArgument } from './control-error';

export type Collection = 'keys' | 'routes' | 'links';

const EXAMPLES: Record<Collection, string> = { keys: 'keys/key_…', routes: 'routes/lsn_…', links: 'links/lnk_…' };

export const keyName = (id: string): string => `keys/${id}`;
export const routeName = (listenerId: string): string => `routes/${listenerId}`;
export const linkName = (id: string): string => `links/${id}`;

/** The id a required name field names; INVALID_ARGUMENT naming the field otherwise. */
export function parseName(field: string, value: string, collection: Collection): string {
  if (value === '') throw invalidArgument(field, `required, e.g. ${EXAMPLES[collection]}`);
  const id = value.startsWith(`${collection}/`) ? value.slice(collection.length + 1) : value;
  if (id === '' || id.includes('/')) throw invalidArgument(field, `"${value}" is not a ${collection} name, e.g. ${EXAMPLES[collection]}`);
  return id;
}

/** Like parseName, for an optional filter: undefined when empty. */
export function parseOptionalName(field: string, value: string, collection: Collection): string | undefined {
  return value === '' ? undefined : parseName(field, value, collection);
}
