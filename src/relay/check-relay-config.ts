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
  new TrustedProxies(config.trustedProxies);
  readTlsMaterial(config.tls);
}
