/**
 * What cluster mode plugs into the house: the key store on Redis in place of
 * the SQLite file, the relay's route directory, and this node's id and
 * address.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.constants';
import { ConfigError } from '../config/load-config';
import { LOGGER } from '../logging/logging.constants';
import { ROUTE_DIRECTORY } from '../relay/context/route-directory';
import { ClusterDirectory } from './cluster-directory';
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


/** The directory of routes and dials, shared by the nodes: what the relay sees of the other nodes. */
@Global()
@Module({})
export class ClusterModule {
  static register(): DynamicModule {
    return {
      module: ClusterModule,
      providers: [
        {
          provide: ROUTE_DIRECTORY,
          inject: [CONFIG, LOGGER],
          useFactory: (config: Config, log: Logger): Promise<ClusterDirectory> => {
            const { redisUrl, nodeId, secret, leaseMs } = config.cluster;
            // withNodeId and loadConfig see to these in cluster mode; this module is registered only then.
            if (redisUrl === undefined || nodeId === undefined || secret === undefined) throw new Error('cluster mode needs REMOTED_REDIS_URL, a node id and REMOTED_CLUSTER_SECRET');
            return ClusterDirectory.open({ redisUrl, nodeId, secret, leaseMs, log });
          },
        },
      ],
      exports: [ROUTE_DIRECTORY],
    };
  }
}

/** Where the other nodes reach this one: REMOTED_NODE_ADDRESS, or the relay's own host and port. */
export function nodeAddressOf(config: Config, port: number): string {
  if (config.cluster.nodeAddress !== undefined) return config.cluster.nodeAddress;
  const { host } = config;
  if (host === '0.0.0.0' || host === '::' || host === '') {
    throw new ConfigError([`REMOTED_NODE_ADDRESS (--node-address): needed in cluster mode when the relay binds every address (${host === '' ? 'no host' : host}); set the address the other nodes reach this one at, e.g. 10.0.0.11:${port}`]);
  }
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
