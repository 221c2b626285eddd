/**
 * Settings that need more than a type check (a list of CIDRs, certificate and
 * key files in pairs, readable), checked before Nest builds anything so that a
 * bad one stops the start like any other bad setting: a ConfigError (exit 2)
 * that names it, rather than a failing provider ("failed to start", exit 1).
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../config/config';
import { ConfigError } from '../../config/load-config';
import { TrustedProxies } from './client-address';

/** How a setting is named to the person who set it: its variable and its flag. */
function named(env: string, flag: string): string {
  return `${env} (--${flag})`;
}

export function checkRelayConfig(config: Config): void {
  const problems: string[] = [];
  let proxies: TrustedProxies | undefined;
  try {
    proxies = new TrustedProxies(config.trustedProxies);
  } catch (err) {
    problems.push(`${named('REMOTED_TRUSTED_PROXIES', 'trusted-proxies')}: ${(err as Error).message}`);
  }
  // With no trusted proxy every connection would be refused (see ProxyProtocolGate).
  if (config.proxyProtocol && proxies && !proxies.any) {
    problems.push(`${named('REMOTED_PROXY_PROTOCOL', 'proxy-protocol')}: needs the proxies that send it in ${named('REMOTED_TRUSTED_PROXIES', 'trusted-proxies')}`);
  }
  checkFilePair(problems, config.tls.certFile, config.tls.keyFile, ['REMOTED_TLS_CERT', 'tls-cert'], ['REMOTED_TLS_KEY', 'tls-key']);
  checkFilePair(problems, config.grpc.tlsCertFile, config.grpc.tlsKeyFile, ['REMOTED_GRPC_TLS_CERT', 'grpc-tls-cert'], ['REMOTED_GRPC_TLS_KEY', 'grpc-tls-key']);
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Both files or neither, and each readable. */
function checkFilePair(problems: string[], cert: string | undefined, key: string | undefined, certName: [string, string], keyName: [string, string]): void {
  if (!cert && !key) return;
  if (!cert) return void problems.push(`${named(...certName)}: missing; ${named(...keyName)} needs a certificate beside it`);
  if (!key) return void problems.push(`${named(...keyName)}: missing; ${named(...certName)} needs its private key beside it`);
  for (const [file, name] of [[cert, certName], [key, keyName]] as const) {
    try {
      readFileSync(file);
    } catch (err) {
      problems.push(`${named(...name)}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
}
