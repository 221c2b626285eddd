/** A key's caps on what it holds at once: its own (set over the control plane), else the relay's defaults. */
import type { ApiKey } from './api-key';
import type { RelayLimits } from '../config/config';

export interface EffectiveKeyLimits {
  maxRoutes: number;
  maxWaitingDialers: number;
  maxSpares: number;
  maxLinks: number;
}

export function keyLimitsOf(key: Pick<ApiKey, 'limits'>, limits: RelayLimits): EffectiveKeyLimits {
  return {
    maxRoutes: key.limits.maxRoutes ?? limits.maxRoutesPerKey,
    maxWaitingDialers: key.limits.maxWaitingDialers ?? limits.maxWaitingDialersPerKey,
    maxSpares: key.limits.maxSpares ?? limits.maxSparesPerKey,
    maxLinks: key.limits.maxLinks ?? limits.maxLinksPerKey,
  };
}
