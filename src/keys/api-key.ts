/** API keys: what the relay and the control plane know about a key, never its secret. */
import type { RoutePolicy } from './route-policy';

export const KEY_ROLES = ['server', 'client', 'admin'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export function isKeyRole(value: string | undefined): value is KeyRole {
  return value !== undefined && (KEY_ROLES as readonly string[]).includes(value);
}

/**
 * Caps on what one key may hold at once, so that one tenant cannot use up the
 * relay-wide limits. Undefined means the relay's default (REMOTED_MAX_*_PER_KEY).
 * Routes and spares count for server keys, waiting dialers and links for client keys.
 */
export interface KeyLimits {
  maxRoutes?: number;
  maxWaitingDialers?: number;
  maxSpares?: number;
  maxLinks?: number;
}

export const KEY_LIMIT_NAMES = ['maxRoutes', 'maxWaitingDialers', 'maxSpares', 'maxLinks'] as const satisfies ReadonlyArray<keyof KeyLimits>;
export type KeyLimitName = (typeof KEY_LIMIT_NAMES)[number];

/** Which role a cap applies to: the others never hold such a thing. */
export const KEY_LIMIT_ROLE: Readonly<Record<KeyLimitName, KeyRole>> = {
  maxRoutes: 'server',
  maxSpares: 'server',
  maxWaitingDialers: 'client',
  maxLinks: 'client',
};

export interface ApiKey {
  /** Public id, safe to log and show; the secret is never stored. */
  id: string;
  role: KeyRole;
  label: string;
  /** Path patterns the key may use; empty means every path. */
  scopes: readonly string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  /** Server keys: what a second listener on a path it holds gets; undefined means the relay's default. */
  routePolicy?: RoutePolicy;
  /** Server keys with the pool policy: most active listeners per path; undefined means the relay's default. */
  poolSize?: number;
  /** Caps of its own; an empty object means the relay's defaults for all. */
  limits: KeyLimits;
}

export interface CreateKeyInput {
  role: KeyRole;
  label?: string;
  scopes?: readonly string[];
  expiresAt?: Date | null;
  /** A given secret (bootstrap keys); otherwise one is generated. */
  secret?: string;
  /** Server keys only (the control plane checks); undefined means the relay's default. */
  routePolicy?: RoutePolicy;
  /** Server keys only; undefined means the relay's default. */
  poolSize?: number;
  limits?: KeyLimits;
}

export interface ListKeysQuery {
  role?: KeyRole;
  includeRevoked?: boolean;
  /** Keys whose id sorts after this one (pagination cursor). */
  afterId?: string;
  limit?: number;
}

/** Fields left undefined are kept; null sets a field back to the relay's default. */
export interface UpdateKeyInput {
  label?: string;
  scopes?: readonly string[];
  routePolicy?: RoutePolicy | null;
  poolSize?: number | null;
  /** Each cap named is set; null goes back to the relay's default. */
  limits?: { [name in KeyLimitName]?: number | null };
}

export interface RevokeOptions {
  /** The key's established links run on until they end by themselves; nothing new is linked either way. */
  keepLinks?: boolean;
}

/** A key as it is after an update or a revocation, for whoever enforces what it holds. */
export interface KeyChange {
  key: ApiKey;
  /** For revocations: the operator asked that established links run on. */
  keepLinks: boolean;
}

/**
 * Where keys live. The embedded SQLite store implements it; a shared store
 * (for several relays) can implement the same contract.
 */
export interface KeyStore {
  /** Returns the new key and its secret: the only time the secret is seen. */
  create(input: CreateKeyInput): Promise<{ key: ApiKey; secret: string }>;
  /** The key whose secret this is, revoked or expired ones included. */
  findBySecret(secret: string): Promise<ApiKey | undefined>;
  get(id: string): Promise<ApiKey | undefined>;
  list(query?: ListKeysQuery): Promise<ApiKey[]>;
  update(id: string, input: UpdateKeyInput): Promise<ApiKey | undefined>;
  /** Marks the key revoked (idempotent); undefined when no such key. */
  revoke(id: string, options?: RevokeOptions): Promise<ApiKey | undefined>;
  /**
   * Calls back after every update and revocation (a repeated one too), before
   * that call resolves, so that what the key holds is closed by the time the
   * writer hears back. Returns the function that unsubscribes.
   */
  onChange(listener: (change: KeyChange) => void): () => void;
  count(): Promise<number>;
  /**
   * Whether the store answers now (the SQLite file is open; Redis answered
   * its last heartbeat): what /readyz reports, read on every probe, so it must
   * not block.
   */
  isReady(): boolean;
  close(): Promise<void>;
}

/**
 * The store cannot answer now (cluster mode: Redis is unreachable and the key
 * is not cached). Callers refuse the request as "try again" (503, gRPC
 * UNAVAILABLE), never as a wrong key, which would count against the address.
 */
export class KeyStoreUnavailableError extends Error {
  override name = 'KeyStoreUnavailableError';
  constructor(message = 'the key store is unreachable') {
    super(message);
  }
}

export function isUsable(key: ApiKey, now: Date = new Date()): boolean {
  return key.revokedAt === null && (key.expiresAt === null || key.expiresAt.getTime() > now.getTime());
}
