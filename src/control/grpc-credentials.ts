/** Plaintext, or TLS when both a certificate and a key file are configured. */
import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';
import type { GrpcConfig } from '../config/config';

export function serverCredentials(config: GrpcConfig): ServerCredentials {
  const { tlsCertFile, tlsKeyFile } = config;
  if (!tlsCertFile && !tlsKeyFile) return ServerCredentials.createInsecure();
  if (!tlsCertFile || !tlsKeyFile) {
    throw new Error('gRPC TLS needs both REMOTED_GRPC_TLS_CERT and REMOTED_GRPC_TLS_KEY (--grpc-tls-cert, --grpc-tls-key)');
  }
  return ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(tlsCertFile), private_key: readFileSync(tlsKeyFile) }], false);
}
