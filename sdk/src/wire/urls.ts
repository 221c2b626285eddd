/**
 * Remoted URLs (docs/protocol.md, "URLs"): `rws(s)://key@host[:port]/path` to
 * listen, `rwr(s)://key@host[:port]/path` to dial, and dial strings that chain
 * several of them. The key may also be given apart (UrlKeyOptions).
 */
import { DEFAULT_PORT } from './protocol';

export type ListenScheme = 'rws' | 'rwss';
export type DialScheme = 'rwr' | 'rwrs';
export type RemotedScheme = ListenScheme | DialScheme;

export interface RemotedUrl {
  scheme: RemotedScheme;
  /** The API key: the URL's user part, percent-decoded. */
  key: string;
  /** Host name or address, without IPv6 brackets. */
  host: string;
  port: number;
  /** The request target sent to the relay: path and query string. */
  path: string;
  /** TLS to the relay (`rwss`, `rwrs`). */
  secure: boolean;
  /** `host:port`, bracketed for IPv6, as the Host header wants it. */
  hostHeader: string;
}

export interface DialString {
  /** The `rwr(s)` hops in order: each after the first is requested through the link of the one before. */
  hops: RemotedUrl[];
  /** The first URL that is not `rwr(s)`: what the application speaks over the link, if given. */
  applicationUrl: string | undefined;
}

export interface UrlKeyOptions {
  /**
   * The key for a URL that carries none (`rws://relay.example/path`), so that
   * it need not be written where others can read it (a process list, a shell
   * history). A key in the URL itself wins.
   */
  key?: string;
}

const SCHEMES: readonly RemotedScheme[] = ['rws', 'rwss', 'rwr', 'rwrs'];

/** Thrown for a URL that cannot be used; a usage mistake, not a relay refusal. */
export class RemotedUrlError extends Error {
  override name = 'RemotedUrlError';
  readonly code = 'invalid_url';
}

export function parseRemotedUrl(text: string, accept: readonly RemotedScheme[] = SCHEMES, options: UrlKeyOptions = {}): RemotedUrl {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RemotedUrlError(`Not a URL: ${redact(text)}`);
  }
  const scheme = url.protocol.slice(0, -1) as RemotedScheme;
  if (!accept.includes(scheme)) {
    throw new RemotedUrlError(`Expected a ${accept.map((s) => `${s}://`).join(' or ')} URL, got ${url.protocol}//`);
  }
  if (url.hostname === '') throw new RemotedUrlError(`No host in ${redact(text)}`);
  let key: string;
  try {
    key = decodeURIComponent(url.username);
  } catch {
    throw new RemotedUrlError('The key in the URL is not valid percent-encoding.');
  }
  if (key === '') key = options.key ?? '';
  if (key === '') throw new RemotedUrlError(`No key in ${redact(text)}: expected ${scheme}://KEY@host/path, or the key given apart (the key option)`);
  // WHATWG URL keeps non-special schemes' hosts as written: brackets stay on IPv6.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  const path = (url.pathname === '' ? '/' : url.pathname) + url.search;
  return {
    scheme,
    key,
    host,
    port,
    path,
    secure: scheme === 'rwss' || scheme === 'rwrs',
    hostHeader: `${host.includes(':') ? `[${host}]` : host}:${port}`,
  };
}

export function parseListenUrl(text: string, options: UrlKeyOptions = {}): RemotedUrl {
  return parseRemotedUrl(text, ['rws', 'rwss'], options);
}

/** True when the URL writes a key in its user part (`rws://KEY@host/path`); false for one without, or for text that is no URL. */
export function urlCarriesKey(text: string): boolean {
  try {
    return new URL(text.trim()).username !== '';
  } catch {
    return false;
  }
}

/**
 * Splits a dial string on white space. Leading `rwr(s)` URLs are hops; the
 * first other URL ends the chain and is given back as the application's URL.
 */
export function parseDialString(text: string, options: UrlKeyOptions = {}): DialString {
  const parts = text.trim().split(/\s+/).filter((p) => p !== '');
  const hops: RemotedUrl[] = [];
  for (const part of parts) {
    if (!/^rwrs?:/i.test(part)) {
      if (hops.length === 0) throw new RemotedUrlError(`A dial string starts with an rwr:// or rwrs:// URL, got ${redact(part)}`);
      return { hops, applicationUrl: part };
    }
    hops.push(parseRemotedUrl(part, ['rwr', 'rwrs'], options));
  }
  if (hops.length === 0) throw new RemotedUrlError('Empty dial string.');
  return { hops, applicationUrl: undefined };
}

/** The URL without its key, for messages and logs. */
export function redactUrl(url: RemotedUrl): string {
  return `${url.scheme}://${url.hostHeader}${url.path}`;
}

function redact(text: string): string {
  return text.replace(/\/\/[^@/]*@/, '//***@');
}
