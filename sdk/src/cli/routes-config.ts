/**
 * The routes file of `remoted expose --config` (JSON; schema in
 * sdk/schema/routes.schema.json): parsed, checked and resolved into one
 * RouteSpec per route, keys read. Every error names the file, line, column
 * and field, and exits as a usage error.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PROXY_PROTOCOL_VERSIONS, type ProxyProtocolVersion } from '../listen/proxy-protocol';
import { MAX_SPARES } from '../listen/remoted-server';
import { parseListenUrl, RemotedUrlError, redactUrl } from '../wire/urls';
import { CliError, EXIT } from './exit-codes';
import { type HostPort, parseHostPort } from './host-port';
import { KEY_ENV, readKeyFile } from './key-source';
import { type JsonEntry, type JsonNode, JsonSyntaxError, lineColumnAt, parsePositionedJson } from './positioned-json';

/** One route to expose, resolved: everything a RemotedServer and its links need. */
export interface RouteSpec {
  /** The listen URL with its key, as RemotedServer.listen takes it. */
  url: string;
  /** The URL without its key (`rws://relay:port/path`): the route's identity across reloads, and its name in logs. */
  name: string;
  to: HostPort;
  spares: number | 'auto';
  proxyProtocol: ProxyProtocolVersion | undefined;
  drainTimeoutSeconds: number;
  maxRetryDelayMs: number;
}

/** What a route does not set comes from expose's flags (or their defaults). */
export type RouteDefaults = Pick<RouteSpec, 'spares' | 'proxyProtocol' | 'drainTimeoutSeconds' | 'maxRetryDelayMs'>;

export interface RoutesConfig {
  routes: RouteSpec[];
  /** True when a key is written in the file itself ("key", or a key in a "url"), not in a key file. */
  holdsKeys: boolean;
  /** Worth a warning, not an error (a file with keys that others may read). */
  warnings: string[];
}

/** The fields of the file's top level and of each route; the schema file lists the same (a test checks). */
export const TOP_LEVEL_FIELDS = ['$schema', 'relay', 'key', 'keyFile', 'routes'] as const;
export const ROUTE_FIELDS = ['url', 'relay', 'path', 'key', 'keyFile', 'to', 'spares', 'proxyProtocol', 'drainTimeout', 'maxRetryDelay'] as const;

/** setTimeout takes at most 2^31 - 1 ms (about 24 days). */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Reads and resolves the routes file; throws a RoutesConfigError (exit 2) naming what is wrong and where. */
export function readRoutesConfig(file: string, defaults: RouteDefaults, env: NodeJS.ProcessEnv = {}): RoutesConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RoutesConfigError(`${file}: cannot read the routes file: ${(err as Error).message}`);
  }
  const config = parseRoutesConfig(text, file, defaults, env);
  const mode = statSync(file).mode;
  if (config.holdsKeys && process.platform !== 'win32' && (mode & 0o077) !== 0) {
    config.warnings.push(`${file} holds a key and is open to other users (mode ${(mode & 0o777).toString(8)}): chmod 600 it, or use "keyFile"`);
  }
  return config;
}

export class RoutesConfigError extends CliError {
  constructor(message: string) {
    super('invalid_config', message, EXIT.usage);
  }
}

type ObjectNode = Extract<JsonNode, { kind: 'object' }>;

/** Where an error is: turns an offset in the text into `file:line:column`. */
class ConfigText {
  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  error(offset: number, field: string, message: string): RoutesConfigError {
    const { line, column } = lineColumnAt(this.text, offset);
    return new RoutesConfigError(`${this.file}:${line}:${column}: ${field ? `${field}: ` : ''}${message}`);
  }
}

/** A key and where it was given (for errors about it). */
interface KeySource {
  key: string | undefined;
  /** The field that gave the key, and its value's offset. */
  field: string;
  offset: number;
}

export function parseRoutesConfig(text: string, file: string, defaults: RouteDefaults, env: NodeJS.ProcessEnv = {}): RoutesConfig {
  const where = new ConfigText(file, text);
  let root: JsonNode;
  try {
    root = parsePositionedJson(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw where.error(err.offset, '', `not valid JSON: ${err.message}`);
    throw err;
  }
  const top = fieldsOf(where, root, '', TOP_LEVEL_FIELDS);
  const baseDir = dirname(resolve(file));
  const topRelay = top.get('relay');
  const ownTopKey = keyOf(where, top, '', baseDir);
  let holdsKeys = ownTopKey?.field === 'key';
  const topKey = ownTopKey ?? envKey(env);
  const routesEntry = top.get('routes');
  if (!routesEntry) throw where.error(root.offset, '', 'no "routes": expected "routes": [{ "path": "/name", "to": "host:port" }, ...]');
  if (routesEntry.value.kind !== 'array') throw where.error(routesEntry.value.offset, 'routes', `expected an array of routes, got ${kindOf(routesEntry.value)}`);
  if (routesEntry.value.items.length === 0) throw where.error(routesEntry.value.offset, 'routes', 'expected at least one route');

  const routes: RouteSpec[] = [];
  const firstByName = new Map<string, string>();
  routesEntry.value.items.forEach((node, index) => {
    const field = `routes[${index}]`;
    const route = fieldsOf(where, node, field, ROUTE_FIELDS);
    const { spec, keyInFile } = resolveRoute(where, route, node.offset, field, { relay: topRelay, key: topKey, baseDir, defaults });
    holdsKeys ||= keyInFile;
    const earlier = firstByName.get(spec.name);
    if (earlier) throw where.error(node.offset, field, `the same route as ${earlier} (${spec.name}): each relay and path once`);
    firstByName.set(spec.name, field);
    routes.push(spec);
  });
  return { routes, holdsKeys, warnings: [] };
}

interface Inherited {
  relay: JsonEntry | undefined;
  key: KeySource | undefined;
  baseDir: string;
  defaults: RouteDefaults;
}

function resolveRoute(where: ConfigText, route: Map<string, JsonEntry>, offset: number, field: string, inherited: Inherited): { spec: RouteSpec; keyInFile: boolean } {
  const urlEntry = route.get('url');
  const pathEntry = route.get('path');
  const relayEntry = route.get('relay');
  if (urlEntry && (pathEntry || relayEntry)) {
    throw where.error((pathEntry ?? relayEntry ?? urlEntry).keyOffset, field, 'give either "url", or "path" (with "relay" here or at the top), not both');
  }
  const ownKey = keyOf(where, route, field, inherited.baseDir);
  let base: { scheme: string; host: string; path: string; key: string | undefined };
  let baseField: string;
  let baseOffset: number;
  if (urlEntry) {
    baseField = `${field}.url`;
    baseOffset = urlEntry.value.offset;
    base = relayUrlOf(where, urlEntry, baseField, 'url');
    if (base.key !== undefined && ownKey) throw where.error(ownKey.offset, ownKey.field, 'the key is given twice: in "url" and here');
  } else {
    if (!pathEntry) throw where.error(offset, field, 'no "path" (or "url"): expected e.g. "path": "/ssh"');
    const path = stringOf(where, pathEntry, `${field}.path`);
    if (!path.startsWith('/')) throw where.error(pathEntry.value.offset, `${field}.path`, `expected a path starting with "/", got ${JSON.stringify(path)}`);
    const relay = relayEntry ?? inherited.relay;
    if (!relay) throw where.error(pathEntry.keyOffset, field, 'no relay for this path: give "relay": "rws://relay.example:37791" here or at the top, or a whole "url"');
    baseField = relayEntry ? `${field}.relay` : 'relay';
    baseOffset = relay.value.offset;
    const relayUrl = relayUrlOf(where, relay, baseField, 'relay');
    if (relayUrl.path !== '' && relayUrl.path !== '/') throw where.error(relay.value.offset, baseField, `a relay URL has no path (the route's is "path"), got ${relayUrl.path}`);
    if (relayUrl.key !== undefined) throw where.error(relay.value.offset, baseField, 'give the key as "key" or "keyFile", not in the relay URL');
    base = { ...relayUrl, path };
  }
  const key = base.key ?? ownKey?.key ?? inherited.key?.key;
  if (key === undefined) {
    throw where.error(offset, field, 'no key: give "key" or "keyFile" (on the route or at the top), a key in "url", or REMOTED_KEY in the environment');
  }
  let url: string;
  let name: string;
  try {
    url = `${base.scheme}://${encodeURIComponent(key)}@${base.host}${base.path}`;
    name = redactUrl(parseListenUrl(url));
  } catch (err) {
    if (err instanceof RemotedUrlError) throw where.error(baseOffset, baseField, err.message);
    throw err;
  }

  const toEntry = route.get('to');
  if (!toEntry) throw where.error(offset, field, 'no "to": expected the local service, e.g. "to": "127.0.0.1:22"');
  const toText = stringOf(where, toEntry, `${field}.to`);
  let to: HostPort;
  try {
    to = parseHostPort(toText);
  } catch {
    throw where.error(toEntry.value.offset, `${field}.to`, `expected "host:port", got ${JSON.stringify(toText)}`);
  }

  const defaults = inherited.defaults;
  const proxyEntry = route.get('proxyProtocol');
  let proxyProtocol = defaults.proxyProtocol;
  if (proxyEntry) {
    const version = stringOf(where, proxyEntry, `${field}.proxyProtocol`);
    if (!(PROXY_PROTOCOL_VERSIONS as readonly string[]).includes(version)) {
      throw where.error(proxyEntry.value.offset, `${field}.proxyProtocol`, `expected one of ${PROXY_PROTOCOL_VERSIONS.map((v) => `"${v}"`).join(', ')}, got ${JSON.stringify(version)}`);
    }
    proxyProtocol = version as ProxyProtocolVersion;
  }
  const spec: RouteSpec = {
    url,
    name,
    to,
    spares: sparesOf(where, route.get('spares'), `${field}.spares`) ?? defaults.spares,
    proxyProtocol,
    drainTimeoutSeconds: wholeNumberOf(where, route.get('drainTimeout'), `${field}.drainTimeout`, MAX_TIMER_SECONDS) ?? defaults.drainTimeoutSeconds,
    maxRetryDelayMs: wholeNumberOf(where, route.get('maxRetryDelay'), `${field}.maxRetryDelay`, Number.MAX_SAFE_INTEGER) ?? defaults.maxRetryDelayMs,
  };
  return { spec, keyInFile: base.key !== undefined || ownKey?.field === `${field}.key` };
}

/** The fields of an object node, refusing any not in `allowed` (a typo would otherwise be ignored). */
function fieldsOf(where: ConfigText, node: JsonNode, field: string, allowed: readonly string[]): Map<string, JsonEntry> {
  if (node.kind !== 'object') throw where.error(node.offset, field, `expected an object, got ${kindOf(node)}`);
  const fields = new Map<string, JsonEntry>();
  for (const entry of (node as ObjectNode).entries) {
    if (!allowed.includes(entry.key)) {
      throw where.error(entry.keyOffset, join(field, entry.key), `unknown field (expected one of: ${allowed.join(', ')})`);
    }
    fields.set(entry.key, entry);
  }
  return fields;
}

function stringOf(where: ConfigText, entry: JsonEntry, field: string): string {
  if (entry.value.kind !== 'string') throw where.error(entry.value.offset, field, `expected a string, got ${kindOf(entry.value)}`);
  return entry.value.value;
}

function wholeNumberOf(where: ConfigText, entry: JsonEntry | undefined, field: string, max: number): number | undefined {
  if (!entry) return undefined;
  const node = entry.value;
  if (node.kind !== 'number' || !Number.isInteger(node.value) || node.value < 0 || node.value > max) {
    throw where.error(node.offset, field, `expected a whole number from 0 to ${max}, got ${node.kind === 'number' ? node.value : kindOf(node)}`);
  }
  return node.value;
}

/** As --spares: "auto" or a whole number up to MAX_SPARES. */
function sparesOf(where: ConfigText, entry: JsonEntry | undefined, field: string): number | 'auto' | undefined {
  if (entry?.value.kind === 'string' && entry.value.value === 'auto') return 'auto';
  if (entry?.value.kind === 'string') throw where.error(entry.value.offset, field, `expected "auto" or a whole number from 0 to ${MAX_SPARES}, got ${JSON.stringify(entry.value.value)}`);
  return wholeNumberOf(where, entry, field, MAX_SPARES);
}

/** An `rws://` or `rwss://` URL whose key may be missing (parseListenUrl wants one). */
function relayUrlOf(where: ConfigText, entry: JsonEntry, field: string, what: string): { scheme: string; host: string; path: string; key: string | undefined } {
  const text = stringOf(where, entry, field);
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw where.error(entry.value.offset, field, `expected an rws:// or rwss:// ${what}, got ${JSON.stringify(redact(text))}`);
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'rws' && scheme !== 'rwss') throw where.error(entry.value.offset, field, `expected an rws:// or rwss:// ${what}, got ${url.protocol}//`);
  let key: string | undefined;
  try {
    key = url.username === '' ? undefined : decodeURIComponent(url.username);
  } catch {
    throw where.error(entry.value.offset, field, 'the key in the URL is not valid percent-encoding');
  }
  return { scheme, host: url.host, path: url.pathname + url.search, key };
}

/** `key` or `keyFile` of one level (the top, or a route); both at once is an error. */
function keyOf(where: ConfigText, fields: Map<string, JsonEntry>, field: string, baseDir: string): KeySource | undefined {
  const keyEntry = fields.get('key');
  const fileEntry = fields.get('keyFile');
  if (keyEntry && fileEntry) throw where.error(fileEntry.keyOffset, join(field, 'keyFile'), 'give "key" or "keyFile", not both');
  if (keyEntry) {
    const name = join(field, 'key');
    const key = stringOf(where, keyEntry, name);
    if (key === '') throw where.error(keyEntry.value.offset, name, 'the key is empty');
    return { key, field: name, offset: keyEntry.value.offset };
  }
  if (!fileEntry) return undefined;
  const name = join(field, 'keyFile');
  const path = resolve(baseDir, stringOf(where, fileEntry, name));
  const fail = (message: string): RoutesConfigError => where.error(fileEntry.value.offset, name, message);
  let key: string;
  try {
    // The same rule and messages as --key-file: refused when group or others may access it.
    key = readKeyFile(path, path);
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err));
  }
  return { key, field: name, offset: fileEntry.value.offset };
}

/** REMOTED_KEY, the key of every route that names none (read here only for the routes file). */
function envKey(env: NodeJS.ProcessEnv): KeySource | undefined {
  const key = env[KEY_ENV.data];
  return key ? { key, field: KEY_ENV.data, offset: 0 } : undefined;
}

function kindOf(node: JsonNode): string {
  return node.kind === 'array' ? 'an array' : node.kind === 'object' ? 'an object' : node.kind === 'null' ? 'null' : `a ${node.kind}`;
}

function join(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

function redact(text: string): string {
  return text.replace(/\/\/[^@/]*@/, '//***@');
}
