/**
 * Typed handlers for a generated service, turned into what grpc-js calls.
 * A unary handler returns a plain init object (or throws a ControlError); a
 * server-streaming handler gets the call to write to. Errors become statuses
 * in one place (control-error.ts), and every call is answered exactly once.
 */
import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type {
  handleServerStreamingCall,
  handleUnaryCall,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toServiceError } from './control-error';

export type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  call: ServerUnaryCall<MessageShape<I>, MessageInitShape<O>>,
) => Promise<MessageInitShape<O>> | MessageInitShape<O>;

export type ServerStreamHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  call: ServerWritableStream<MessageShape<I>, MessageInitShape<O>>,
) => void;

/** One handler per method of the service, by its localName. */
export type ServiceHandlers<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]['methodKind'] extends 'unary'
    ? UnaryHandler<S[K]['input'], S[K]['output']>
    : S[K]['methodKind'] extends 'server_streaming'
      ? ServerStreamHandler<S[K]['input'], S[K]['output']>
      : never;
};

type AnyUnary = UnaryHandler<DescMessage, DescMessage>;
type AnyStream = ServerStreamHandler<DescMessage, DescMessage>;

export function implement<S extends GenServiceMethods>(
  service: GenService<S>,
  handlers: ServiceHandlers<S>,
  log: Logger,
): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    // The mapped type guarantees one handler of the right kind per localName.
    const handler = (handlers as unknown as Record<string, AnyUnary | AnyStream>)[method.localName];
    const label = `${service.typeName}/${method.name}`;
    if (method.methodKind === 'unary') implementation[method.localName] = unary(handler as AnyUnary, log, label);
    else if (method.methodKind === 'server_streaming') implementation[method.localName] = serverStream(handler as AnyStream, log, label);
    else throw new Error(`${label}: ${method.methodKind} methods are not supported`);
  }
  return implementation;
}

function unary(handler: AnyUnary, log: Logger, label: string): handleUnaryCall<MessageShape<DescMessage>, MessageInitShape<DescMessage>> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => handler(call.request, call))
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback(toServiceError(err, log, label)),
      );
  };
}

function serverStream(handler: AnyStream, log: Logger, label: string): handleServerStreamingCall<MessageShape<DescMessage>, MessageInitShape<DescMessage>> {
  return (call) => {
    try {
      handler(call.request, call);
    } catch (err) {
      call.emit('error', toServiceError(err, log, label));
    }
  };
}

/** The handlers a generated service (`typeof KeyService`) needs. */
export type HandlersOf<T> = T extends { method: infer M extends GenServiceMethods } ? ServiceHandlers<M> : never;
