/** KeyService: create, list, get, update, revoke keys; close what a key opened. */
import type { KeyService } from '@remoted/sdk/gen/remoted/admin/v1/key_service_pb';
import { KeyRole as ProtoKeyRole } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import type { ApiKey, KeyLimitName, KeyLimits, KeyStore, UpdateKeyInput } from '../keys/api-key';
import type { KeyHoldings, SeveredCounts } from '../relay/relay-admin';
import { invalidArgument, notFound } from './control-error';
import type { HandlersOf } from './grpc-handlers';
import { checkedExpiry, checkedKeyLimit, checkedLabel, checkedPoolSize, checkedRoutePolicy, checkedScopes } from './key-field-checks';
import type { KeyEvents } from './key-events';
import { afterKeyOf, pageSizeOf, tokenAfter } from './pagination';
import { roleFromProto } from './proto-enums';
import { keyName, parseName } from './resource-names';
import { keyToProto } from './to-proto';

type Handlers = HandlersOf<typeof KeyService>;

function limitField(path: string): (typeof LIMIT_FIELDS)[number] | undefined {
  return LIMIT_FIELDS.find((f) => f.field === path);
}

/** The caps a CreateKey request sets (0 fields are the relay's default and left out). */
function checkedLimits(role: ApiKey['role'], request: KeyLimitFields): KeyLimits {
  const limits: KeyLimits = {};
  for (const { field, name, read } of LIMIT_FIELDS) {
    const value = checkedKeyLimit(field, name, role, read(request));
    if (value !== null) limits[name] = value;
  }
  return limits;
}

/** Per-key caps: the proto field (in requests and in Key) of each. */
const LIMIT_FIELDS: ReadonlyArray<{ field: string; name: KeyLimitName; read(message: KeyLimitFields): number }> = [
  { field: 'max_routes', name: 'maxRoutes', read: (m) => m.maxRoutes },
  { field: 'max_waiting_dialers', name: 'maxWaitingDialers', read: (m) => m.maxWaitingDialers },
  { field: 'max_spares', name: 'maxSpares', read: (m) => m.maxSpares },
  { field: 'max_links', name: 'maxLinks', read: (m) => m.maxLinks },
];

interface KeyLimitFields {
  maxRoutes: number;
  maxWaitingDialers: number;
  maxSpares: number;
  maxLinks: number;
}

const UPDATABLE_FIELDS = ['label', 'scopes', 'route_policy', 'pool_size', ...LIMIT_FIELDS.map((f) => f.field)] as const;

export function keyServiceHandlers(store: KeyStore, keyEvents: KeyEvents, holdings: KeyHoldings): Handlers {
  const existing = async (field: string, name: string): Promise<ApiKey> => {
    const id = parseName(field, name, 'keys');
    const key = await store.get(id);
    if (!key) throw notFound(keyName(id), 'list keys with ListKeys (show_revoked to include revoked ones)');
    return key;
  };

  /** Runs a key write and counts what the relay closed because of it (the store tells the relay before it resolves). */
  const closing = async <T>(keyId: string, write: () => Promise<T>): Promise<{ result: T; closed: SeveredCounts }> => {
    const before = holdings.heldBy(keyId);
    const result = await write();
    const after = holdings.heldBy(keyId);
    return { result, closed: { closedRoutes: before.routes - after.routes, closedLinks: before.links - after.links } };
  };

  return {
    async createKey(request) {
      const role = roleFromProto(request.role);
      if (!role) throw invalidArgument('role', 'required: KEY_ROLE_SERVER, KEY_ROLE_CLIENT or KEY_ROLE_ADMIN');
      const expiresAt = request.expireTime ? checkedExpiry('expire_time', request.expireTime) : null;
      const { key, secret } = await store.create({
        role,
        label: checkedLabel('label', request.label),
        scopes: checkedScopes('scopes', request.scopes),
        expiresAt,
        routePolicy: checkedRoutePolicy('route_policy', role, request.routePolicy) ?? undefined,
        poolSize: checkedPoolSize('pool_size', role, request.poolSize) ?? undefined,
        limits: checkedLimits(role, request),
      });
      keyEvents.emit('key:create', key);
      return { key: keyToProto(key), secret };
    },

    async listKeys(request) {
      const limit = pageSizeOf(request);
      const role = request.role === ProtoKeyRole.UNSPECIFIED ? undefined : roleFromProto(request.role);
      if (request.role !== ProtoKeyRole.UNSPECIFIED && !role) throw invalidArgument('role', `unknown role ${request.role}`);
      // One more than asked says whether there is a next page.
      const keys = await store.list({ role, includeRevoked: request.showRevoked, afterId: afterKeyOf(request), limit: limit + 1 });
      const page = keys.slice(0, limit);
      const now = new Date();
      return {
        keys: page.map((key) => keyToProto(key, now)),
        nextPageToken: keys.length > limit ? tokenAfter(page[page.length - 1].id) : '',
      };
    },

    async getKey(request) {
      return { key: keyToProto(await existing('name', request.name)) };
    },

    async updateKey(request) {
      if (!request.key) throw invalidArgument('key', 'required: the key with its name and the fields to set');
      const key = await existing('key.name', request.key.name);
      const paths = request.updateMask?.paths ?? [];
      if (paths.length === 0) throw invalidArgument('update_mask', `required: name the fields to set (${UPDATABLE_FIELDS.join(', ')})`);
      const input: UpdateKeyInput = {};
      for (const path of paths) {
        if (path === 'label') input.label = checkedLabel('key.label', request.key.label);
        else if (path === 'scopes') input.scopes = checkedScopes('key.scopes', request.key.scopes);
        else if (path === 'route_policy') input.routePolicy = checkedRoutePolicy('key.route_policy', key.role, request.key.routePolicy);
        else if (path === 'pool_size') input.poolSize = checkedPoolSize('key.pool_size', key.role, request.key.poolSize);
        else {
          const limit = limitField(path);
          if (!limit) throw invalidArgument('update_mask', `"${path}" cannot be updated; only ${UPDATABLE_FIELDS.join(', ')}`);
          input.limits = { ...input.limits, [limit.name]: checkedKeyLimit(`key.${limit.field}`, limit.name, key.role, limit.read(request.key)) };
        }
      }
      // Narrowed scopes: the relay closes what the key holds outside them as the store tells it of the change.
      const { result: updated, closed } = await closing(key.id, () => store.update(key.id, input));
      if (!updated) throw notFound(keyName(key.id));
      return { key: keyToProto(updated), ...closed };
    },

    async revokeKey(request) {
      const key = await existing('name', request.name);
      // A revoked key holds nothing new and keeps only its links, and those only when asked
      // (close_connections, from before keep_links, still closes them).
      const keepLinks = request.keepLinks && !request.closeConnections;
      const { result, closed } = await closing(key.id, () => store.revoke(key.id, { keepLinks }));
      const revoked = result ?? key;
      // Revoking twice is fine, but only the first revocation is an event.
      if (!key.revokedAt) keyEvents.emit('key:revoke', revoked);
      return { key: keyToProto(revoked), ...closed };
    },

    async closeKeyConnections(request) {
      const key = await existing('name', request.name);
      return holdings.closeKeyConnections(key.id);
    },
  };
}
