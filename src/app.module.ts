import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Config } from './config/config';
import { ConfigModule } from './config/config.module';
import { ControlModule } from './control/control.module';
import { ClusterModule, openRedisKeyStore } from './cluster/cluster-mode';
import { KeysModule, openSqliteKeyStore } from './keys/keys.module';
import { LoggingModule } from './logging/logging.module';
import { ObservabilityModule } from './observability/observability.module';
import { RelayModule } from './relay/relay.module';
import { StatusModule } from './status/status.module';

@Module({})
export class AppModule {
  static register(config: Config, logger: Logger): DynamicModule {
    const cluster = config.cluster.redisUrl === undefined ? [] : [ClusterModule.register()];
    return {
      module: AppModule,
      imports: [...cluster, ConfigModule.register(config), LoggingModule.register(logger), KeysModule.register(config.cluster.redisUrl === undefined ? openSqliteKeyStore : openRedisKeyStore), ObservabilityModule, RelayModule, ControlModule, StatusModule],
    };
  }
}
