/** The data port's certificate and key, read from files at start and again on reload. */
import { readFileSync } from 'node:fs';
import type { TlsFiles } from '../../config/config';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** undefined when TLS is off; throws when only one file is given or a file cannot be read. */
export function readTlsMaterial(files: TlsFiles): TlsMaterial | undefined {
  const { certFile, keyFile } = files;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new Error('TLS on the relay port needs both a certificate (--tls-cert) and a key (--tls-key)');
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
