/**
 * The one bridge between protobuf-es v2 service descriptors and grpc-js: the
 * relay serves and the admin client calls through the same definition, so the
 * schema exists once (the generated descriptors), never as a second copy.
 */
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type MessageInitShape } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/** What crosses the adapter: real messages in, real messages or plain init objects out. */
export type AnyInit = MessageInitShape<DescMessage>;

/** A grpc-js service definition keyed by each method's localName (`createKey`). */
export function toGrpcServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<AnyInit, AnyInit>> = {};
  for (const method of service.methods) definition[method.localName] = toMethodDefinition(service, method);
  return definition;
}

function toMethodDefinition(service: DescService, method: DescMethod): MethodDefinition<AnyInit, AnyInit> {
  const kind = method.methodKind;
  return {
    path: `/${service.typeName}/${method.name}`,
    requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
    responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
    originalName: method.localName,
    // create() passes real messages through and fills in plain init objects,
    // so handlers and callers may use either.
    requestSerialize: (value) => Buffer.from(toBinary(method.input, create(method.input, value))),
    requestDeserialize: (bytes) => fromBinary(method.input, bytes),
    responseSerialize: (value) => Buffer.from(toBinary(method.output, create(method.output, value))),
    responseDeserialize: (bytes) => fromBinary(method.output, bytes),
  };
}
