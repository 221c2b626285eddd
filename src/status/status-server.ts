/**
 * The status page's own HTTP port (never the relay port): the page's files,
 * its login, its JSON API and its event stream. It owns its sockets and
 * closes them all at stop.
 *
 * Who may do what:
 * - Reading (GET /api/...) takes a session cookie or `Authorization: Bearer
 *   <admin key>`.
 * - Every action is a POST. With a session it also needs the session's CSRF
 *   token in `X-CSRF-Token` and a same-origin request (Origin and
 *   Sec-Fetch-Site, when the browser sends them): the cookie alone never
 *   authorizes an action. A bearer is never sent by a browser on its own, so
 *   it needs no token.
 * - Login is a same-origin POST of the admin key; wrong secrets are
 *   throttled per address in the status port's own AuthThrottle table.
 * - The Host header must name a loopback address, an IP literal or the
 *   configured host, so a page of another site rebound to 127.0.0.1 (DNS
 *   rebinding) is refused before it can try anything.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { parseJsonObject } from '@remoted/sdk/wire/json-object';
import { unmapped } from '@remoted/sdk/wire/ip-text';
import { isUsable, type ApiKey, type KeyStore } from '../keys/api-key';
import { bearerSecret } from '../keys/key-secret';
import type { AuthThrottle } from '../keys/auth-throttle';
import { type PageQuery, parsePageQuery } from './status-data';
import type { ActionResult, StatusApi } from './status-api';
import { replyFile, replyJson, replyStatusError } from './status-reply';
import { csrfTokenMatches, SESSION_COOKIE, type SessionTable, type StatusSession } from './status-session';
import type { StatusStreams } from './status-stream';

/** Bodies are small: a key, or an action's options. */
export const MAX_BODY_BYTES = 4096;
/** A Cookie header longer than this is not ours to parse. */
export const MAX_COOKIE_HEADER_BYTES = 4096;
export const CSRF_HEADER = 'x-csrf-token';

const RESOURCE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The page's files: from src/status/page (tests, ts-node) or dist/status/page (the build copies them). */
const PAGE_DIR = join(__dirname, 'page');

interface StaticFile {
  contentType: string;
  body: Buffer;
}

function loadStaticFiles(): Map<string, StaticFile> {
  const page = (name: string, contentType: string): StaticFile => ({ contentType, body: readFileSync(join(PAGE_DIR, name)) });
  // uPlot ships its own browser build and stylesheet in the package: served from here, no CDN.
  const uplot = (name: string, contentType: string): StaticFile => ({ contentType, body: readFileSync(require.resolve(`uplot/dist/${name}`)) });
  return new Map([
    ['/', page('index.html', 'text/html; charset=utf-8')],
    ['/status.js', page('status.js', 'text/javascript; charset=utf-8')],
    ['/status.css', page('status.css', 'text/css; charset=utf-8')],
    ['/uplot.js', uplot('uPlot.iife.min.js', 'text/javascript; charset=utf-8')],
    ['/uplot.css', uplot('uPlot.min.css', 'text/css; charset=utf-8')],
  ]);
}

export interface StatusServerDeps {
  api: StatusApi;
  streams: StatusStreams;
  sessions: SessionTable;
  store: KeyStore;
  throttle: AuthThrottle;
  /** The configured bind address: also a Host the page may be reached by. */
  host: string;
  log: Logger;
  /** Sockets held at once; past it Node closes a new one at accept. */
  maxConnections: number;
  now?: () => number;
}

/** Who a request is: a session (cookie) or a bearer of an admin key. */
type Caller = { kind: 'session'; session: StatusSession } | { kind: 'bearer'; keyId: string };

class Refusal {
  constructor(
    readonly code: Parameters<typeof replyStatusError>[1],
    readonly message: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

export class StatusServer {
  private readonly server: Server;
  private readonly files = loadStaticFiles();
  private readonly now: () => number;

  constructor(private readonly deps: StatusServerDeps) {
    this.now = deps.now ?? Date.now;
    this.server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        deps.log.error({ err }, 'status page request failed');
        replyStatusError(res, 'internal', 'the status page could not answer this request');
      });
    });
    // An admin page needs few sockets; bounded so that a local client opening thousands costs the relay nothing.
    this.server.maxConnections = deps.maxConnections;
  }

  /** Binds once; a bind error (EADDRINUSE...) rejects. */
  async listen(port: number, host: string): Promise<number> {
    this.server.listen(port, host);
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  /** Ends the page's streams and every connection, then the server. */
  async close(): Promise<void> {
    this.deps.streams.closeAll();
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.route(req, res);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      replyStatusError(res, err.code, err.message, err.headers);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkHost(req, this.deps.host);
    const url = new URL(req.url ?? '/', 'http://status.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    const file = this.files.get(path === '/index.html' ? '/' : path);
    if (file) {
      if (method !== 'GET' && method !== 'HEAD') throw new Refusal('method_not_allowed', `${path} is read with GET`, { Allow: 'GET, HEAD' });
      replyFile(res, file.contentType, file.body, method === 'HEAD');
      return;
    }
    if (path === '/login') return this.login(req, res, method);
    if (!path.startsWith('/api/')) throw new Refusal('not_found', `nothing at ${path}`);

    const caller = await this.caller(req);
    if (method === 'GET') return this.read(res, path, url.searchParams, caller);
    if (method !== 'POST') throw new Refusal('method_not_allowed', 'the API is read with GET and acted on with POST', { Allow: 'GET, POST' });
    checkAction(req, caller);
    return this.act(req, res, path, caller);
  }

  private async login(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (method !== 'POST') throw new Refusal('method_not_allowed', 'log in with a POST of the admin key', { Allow: 'POST' });
    checkSameOrigin(req);
    const address = unmapped(req.socket.remoteAddress ?? '');
    this.throttled(address);
    const body = await readBody(req);
    const secret = loginSecret(req, body);
    const key = secret === undefined ? undefined : await this.adminKey(secret);
    if (!key) {
      this.deps.throttle.recordFailure(address, this.now());
      throw new Refusal('bad_key', 'that is not a usable admin key');
    }
    const session = this.deps.sessions.create(key.id, key.expiresAt);
    const maxAgeSeconds = Math.max(1, Math.floor((session.expiresAtMs - this.now()) / 1000));
    this.deps.log.info({ keyId: key.id }, 'status page login');
    replyJson(res, 200, { keyId: key.id, csrfToken: session.csrfToken, expiresAt: new Date(session.expiresAtMs).toISOString() }, {
      'Set-Cookie': `${SESSION_COOKIE}=${session.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}`,
    });
  }

  private async read(res: ServerResponse, path: string, params: URLSearchParams, caller: Caller): Promise<void> {
    const { api, streams } = this.deps;
    const page: PageQuery = parsePageQuery(params);
    switch (path) {
      case '/api/session':
        if (caller.kind === 'bearer') return replyJson(res, 200, { keyId: caller.keyId, csrfToken: null, expiresAt: null });
        return replyJson(res, 200, { keyId: caller.session.keyId, csrfToken: caller.session.csrfToken, expiresAt: new Date(caller.session.expiresAtMs).toISOString() });
      case '/api/routes':
        return replyJson(res, 200, await api.routes(page));
      case '/api/links':
        return replyJson(res, 200, api.links(page));
      case '/api/keys':
        return replyJson(res, 200, await api.keys(page));
      case '/api/events':
        return replyJson(res, 200, { events: streams.latestEvents() });
      case '/api/stream':
        // A session that ends (logout, expiry, its key revoked) ends its stream at the next tick.
        if (!streams.open(res, () => this.stillValid(caller))) throw new Refusal('too_many_streams', 'too many status pages are open; close one and reload');
        return;
      default:
        throw new Refusal('not_found', `nothing at ${path}`);
    }
  }

  private async act(req: IncomingMessage, res: ServerResponse, path: string, caller: Caller): Promise<void> {
    const body = await readBody(req);
    if (path === '/api/logout') {
      if (caller.kind === 'session') this.deps.sessions.end(caller.session.id);
      return replyJson(res, 200, { ok: true, message: 'logged out' }, { 'Set-Cookie': `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
    }
    const match = /^\/api\/(links|routes|keys)\/([^/]+)\/(close|drain|revoke)$/.exec(path);
    if (!match || !RESOURCE_ID.test(match[2])) throw new Refusal('not_found', `no action at ${path}`);
    const [, kind, id, verb] = match;
    const options = actionOptions(body);
    let result: ActionResult;
    if (kind === 'links' && verb === 'close') result = this.deps.api.closeLink(id);
    else if (kind === 'routes' && verb === 'close') result = this.deps.api.closeRoute(id, { closeLinks: options.closeLinks === true });
    else if (kind === 'routes' && verb === 'drain') result = this.deps.api.drainRoute(id);
    else if (kind === 'keys' && verb === 'revoke') result = await this.deps.api.revokeKey(id);
    else throw new Refusal('not_found', `no action at ${path}`);
    const actor = caller.kind === 'session' ? caller.session.keyId : caller.keyId;
    this.deps.log.info({ keyId: actor, action: `${kind}/${verb}`, id, ok: result.ok }, 'status page action');
    if (!result.ok) throw new Refusal(result.code, result.message);
    replyJson(res, 200, result);
  }

  private async caller(req: IncomingMessage): Promise<Caller> {
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const address = unmapped(req.socket.remoteAddress ?? '');
      this.throttled(address);
      const secret = bearerSecret(authorization);
      const key = secret === undefined ? undefined : await this.adminKey(secret);
      if (!key) {
        this.deps.throttle.recordFailure(address, this.now());
        throw new Refusal('bad_key', 'the bearer is not a usable admin key');
      }
      return { kind: 'bearer', keyId: key.id };
    }
    const session = this.deps.sessions.find(sessionCookie(req));
    if (!session) throw new Refusal('unauthenticated', 'log in with the admin key first');
    return { kind: 'session', session };
  }

  private stillValid(caller: Caller): boolean {
    return caller.kind === 'bearer' || this.deps.sessions.find(caller.session.id) !== undefined;
  }

  private throttled(address: string): void {
    const waitMs = this.deps.throttle.retryAfterMs(address, this.now());
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new Refusal('too_many_requests', `too many wrong keys from this address; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
  }

  private async adminKey(secret: string): Promise<ApiKey | undefined> {
    const key = await this.deps.store.findBySecret(secret);
    return key && key.role === 'admin' && isUsable(key) ? key : undefined;
  }
}

function checkHost(req: IncomingMessage, configuredHost: string): void {
  const host = req.headers.host ?? '';
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0];
  if (name === 'localhost' || name === configuredHost || isIP(name) !== 0) return;
  throw new Refusal('forbidden_origin', 'the status page answers only to an IP address or localhost in Host');
}

/** Login and actions come from the page itself: a browser says where a request comes from. */
function checkSameOrigin(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw new Refusal('forbidden_origin', 'actions are taken from the status page itself');
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) throw new Refusal('forbidden_origin', 'actions are taken from the status page itself');
}

function checkAction(req: IncomingMessage, caller: Caller): void {
  if (caller.kind === 'bearer') return;
  checkSameOrigin(req);
  const token = req.headers[CSRF_HEADER];
  if (!csrfTokenMatches(caller.session, typeof token === 'string' ? token : undefined)) {
    throw new Refusal('csrf', `an action needs the session's CSRF token in the ${CSRF_HEADER} header`);
  }
}

function sessionCookie(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined || header.length > MAX_COOKIE_HEADER_BYTES) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The request body, refused past MAX_BODY_BYTES (by Content-Length or as it arrives). */
function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(new Refusal('body_too_large', `a body of at most ${MAX_BODY_BYTES} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new Refusal('body_too_large', `a body of at most ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/** The key of a login: a form field `key` (urlencoded) or JSON `{ "key": ... }`. */
function loginSecret(req: IncomingMessage, body: string): string | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  let key: unknown;
  if (type === 'application/json') key = jsonBody(body).key;
  else if (type === 'application/x-www-form-urlencoded') key = new URLSearchParams(body).get('key');
  else throw new Refusal('invalid_request', 'log in with a form (key=...) or JSON {"key": "..."}');
  if (typeof key !== 'string') return undefined;
  const trimmed = key.trim();
  return trimmed === '' ? undefined : trimmed;
}

function actionOptions(body: string): { closeLinks?: boolean } {
  if (body.trim() === '') return {};
  const parsed = jsonBody(body);
  return typeof parsed.closeLinks === 'boolean' ? { closeLinks: parsed.closeLinks } : {};
}

function jsonBody(body: string): Record<string, unknown> {
  const parsed = parseJsonObject(body);
  if (!parsed) throw new Refusal('invalid_request', 'the body must be a JSON object');
  return parsed;
}
