/**
 * What cluster mode plugs into the house: the key store on Redis in place of
 * the SQLite file, and this node's id in its config and logs.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { KeyStoreOpener } from '../keys/keys.module';
import { RedisKeyStore } from './redis-key-store';

/** The config with this node's id: the configured one, or one made for this start. */
export function withNodeId(config: Config): { config: Config; generatedNodeId: boolean } {
  if (config.cluster.redisUrl === undefined || config.cluster.nodeId !== undefined) return { config, generatedNodeId: false };
  const nodeId = `node-${randomBytes(4).toString('hex')}`;
  return { config: { ...config, cluster: { ...config.cluster, nodeId } }, generatedNodeId: true };
}

/** Keys in Redis, shared by every node (docs/cluster.md). */
export const openRedisKeyStore: KeyStoreOpener = async (config: Config, log: Logger) => {
  const { redisUrl } = config.cluster;
  if (redisUrl === undefined) throw new Error('the Redis key store needs REMOTED_REDIS_URL');
  return RedisKeyStore.open(redisUrl, { log });
};

