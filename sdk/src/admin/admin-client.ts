/**
 * A typed client of the relay's control plane: promises for unary calls, an
 * async iterable for streams, all typed by the generated messages. Every call
 * carries `authorization: Bearer <key>` (metadata, so plaintext works too).
 */
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { type CallOptions, Client, type ClientReadableStream, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { Event } from '../gen/remoted/admin/v1/event_service_pb';
import { EventService } from '../gen/remoted/admin/v1/event_service_pb';
import { KeyService } from '../gen/remoted/admin/v1/key_service_pb';
import { LinkService } from '../gen/remoted/admin/v1/link_service_pb';
import { RouteService } from '../gen/remoted/admin/v1/route_service_pb';
import { StatsService } from '../gen/remoted/admin/v1/stats_service_pb';
import { type AnyInit, toGrpcServiceDefinition } from './grpc-definition';

export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:37792';

export interface AdminClientOptions {
  /** `host:port` of the control plane (default 127.0.0.1:37792). */
  address?: string;
  /** An admin key's secret. */
  key: string;
  /** TLS: true for the system's roots, or a CA certificate (PEM) to trust. */
  tls?: boolean | { ca: Buffer };
}

/** A server stream: iterate it; `ready` resolves once the server has registered the call. */
export interface ResponseStream<T> extends AsyncIterable<T> {
  readonly ready: Promise<void>;
  cancel(): void;
}

type UnaryMethod<I extends DescMessage, O extends DescMessage> = (request?: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>;
type StreamMethod<I extends DescMessage, O extends DescMessage> = (request?: MessageInitShape<I>, options?: CallOptions) => ResponseStream<MessageShape<O>>;

/** One method per RPC of a generated service, by its localName. */
export type ServiceClient<S> = S extends { method: infer M extends GenServiceMethods }
  ? {
      [K in keyof M]: M[K]['methodKind'] extends 'unary'
        ? UnaryMethod<M[K]['input'], M[K]['output']>
        : M[K]['methodKind'] extends 'server_streaming'
          ? StreamMethod<M[K]['input'], M[K]['output']>
          : never;
    }
  : never;

export interface AdminClient {
  keys: ServiceClient<typeof KeyService>;
  routes: ServiceClient<typeof RouteService>;
  links: ServiceClient<typeof LinkService>;
  events: ServiceClient<typeof EventService>;
  stats: ServiceClient<typeof StatsService>;
  /** The relay's events, in order, from now on. */
  watch(options?: CallOptions): ResponseStream<Event>;
  close(): void;
}

export function createAdminClient(options: AdminClientOptions): AdminClient {
  const tls = options.tls;
  const channelCredentials = !tls ? credentials.createInsecure() : credentials.createSsl(tls === true ? null : tls.ca);
  const client = new Client(options.address ?? DEFAULT_ADMIN_ADDRESS, channelCredentials);
  const metadata = (): Metadata => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${options.key}`);
    return md;
  };
  const bind = <S extends DescService>(service: S): ServiceClient<S> => serviceClient(client, service, metadata) as ServiceClient<S>;
  const events = bind(EventService);
  return {
    keys: bind(KeyService),
    routes: bind(RouteService),
    links: bind(LinkService),
    events,
    stats: bind(StatsService),
    watch(callOptions) {
      const stream = events.watchEvents({}, callOptions);
      return {
        ready: stream.ready,
        cancel: () => stream.cancel(),
        async *[Symbol.asyncIterator]() {
          for await (const response of stream) if (response.event) yield response.event;
        },
      };
    },
    close: () => client.close(),
  };
}

function serviceClient(client: Client, service: DescService, metadata: () => Metadata): Record<string, unknown> {
  const definition = toGrpcServiceDefinition(service);
  const methods: Record<string, unknown> = {};
  for (const method of service.methods) {
    const { path, requestSerialize, responseDeserialize } = definition[method.localName];
    if (method.methodKind === 'unary') {
      methods[method.localName] = (request: AnyInit = {}, options: CallOptions = {}) =>
        new Promise((resolve, reject) => {
          client.makeUnaryRequest(path, requestSerialize, responseDeserialize, request, metadata(), options, (err: ServiceError | null, response?: AnyInit) =>
            err ? reject(err) : resolve(response),
          );
        });
    } else if (method.methodKind === 'server_streaming') {
      methods[method.localName] = (request: AnyInit = {}, options: CallOptions = {}) =>
        responseStream(client.makeServerStreamRequest(path, requestSerialize, responseDeserialize, request, metadata(), options));
    } else {
      methods[method.localName] = unsupported(method);
    }
  }
  return methods;
}

function responseStream<T>(call: ClientReadableStream<T>): ResponseStream<T> {
  let cancelled = false;
  const cancel = (): void => {
    if (cancelled) return;
    cancelled = true;
    // The CANCELLED status that follows is the answer to our own cancel.
    call.on('error', ignoreCancelled);
    call.cancel();
  };
  const ready = new Promise<void>((resolve, reject) => {
    call.once('metadata', () => resolve());
    call.once('error', reject);
  });
  ready.catch(() => undefined); // an error also surfaces through iteration
  return {
    ready,
    cancel,
    async *[Symbol.asyncIterator]() {
      try {
        for await (const message of call) yield message as T;
      } catch (err) {
        if (!cancelled) throw err;
      } finally {
        cancel();
      }
    },
  };
}

function ignoreCancelled(): void {}

function unsupported(method: DescMethod): () => never {
  return () => {
    throw new Error(`${method.parent.typeName}/${method.name}: ${method.methodKind} calls are not supported by this client`);
  };
}
