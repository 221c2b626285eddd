/**
 * gRPC server reflection (v1 and v1alpha) from the generated descriptors:
 * @grpc/reflection only reads `fileDescriptorProtos` from the package
 * definition it is given, so it gets the serialized FileDescriptorProto of
 * each served file and of every file those import.
 */
import { toBinary, type DescFile, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { ReflectionService } from '@grpc/reflection';

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

export function createReflectionService(services: readonly DescService[]): ReflectionService {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  for (const service of services) visit(service.file);
  const fileDescriptorProtos = [...files.values()].map((file) => Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
  // One entry suffices: reflection indexes every file it is given, services included.
  const definition = { 'remoted.descriptors': { fileDescriptorProtos } } as unknown as PackageDefinition;
  return new ReflectionService(definition);
}
