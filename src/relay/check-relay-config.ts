/**
 * Settings of the data plane that need more than a type check (a list of
 * CIDRs, readable certificate files), checked before Nest builds anything so
 * that a bad one fails the start with its own message (inside Nest, a failing
 * provider ends the process instead).
 */
import type { Config } from '../config/config';
import { TrustedProxies } from './client-address';
import { readTlsMaterial } from './tls-files';

export function checkRelayConfig(config: Config): void {
  const proxies = new TrustedProxies(config.trustedProxies);
  // With no trusted proxy every connection would be refused (see ProxyProtocolGate).
  if (config.proxyProtocol && !proxies.any) throw new Error('the PROXY protocol (--proxy-protocol) needs the proxies that send it in --trusted-proxies');
  readTlsMaterial(config.tls);
}
