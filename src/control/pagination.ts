/**
 * page_size / page_token for list calls. A token is the opaque (base64url)
 * sort key of the last item returned; the next page starts after it.
 */
import { invalidArgument } from './control-error';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface PageRequest {
  pageSize: number;
  pageToken: string;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

export function pageSizeOf(request: PageRequest): number {
  if (request.pageSize < 0) throw invalidArgument('page_size', `must not be negative (got ${request.pageSize})`);
  return request.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(request.pageSize, MAX_PAGE_SIZE);
}

/** The sort key after which the page starts; undefined for the first page. */
export function afterKeyOf(request: PageRequest): string | undefined {
  if (request.pageToken === '') return undefined;
  const key = Buffer.from(request.pageToken, 'base64url').toString('utf8');
  if (key === '' || Buffer.from(key, 'utf8').toString('base64url') !== request.pageToken) {
    throw invalidArgument('page_token', 'not a token this server returned; pass next_page_token of the previous response');
  }
  return key;
}

export function tokenAfter(sortKey: string): string {
  return Buffer.from(sortKey, 'utf8').toString('base64url');
}

/** One page of items in memory, sorted by sortKey. */
export function paginate<T>(items: Iterable<T>, sortKey: (item: T) => string, request: PageRequest): Page<T> {
  const size = pageSizeOf(request);
  const after = afterKeyOf(request);
  const sorted = [...items].filter((item) => after === undefined || sortKey(item) > after);
  sorted.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const pageItems = sorted.slice(0, size);
  const nextPageToken = sorted.length > size ? tokenAfter(sortKey(pageItems[pageItems.length - 1])) : '';
  return { items: pageItems, nextPageToken };
}
