/** The control plane's client side: the typed admin client and the gRPC adapter it is built on. */
export { createAdminClient, DEFAULT_ADMIN_ADDRESS } from './admin-client';
export type { AdminClient, AdminClientOptions, ResponseStream, ServiceClient } from './admin-client';
export { toGrpcServiceDefinition } from './grpc-definition';
