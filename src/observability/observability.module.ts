import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { RelayModule } from '../relay/relay.module';
import { HealthController } from './health.controller';
import { MetricsService } from './metrics.service';

/**
 * Metrics and health endpoints. AppModule imports it before RelayModule: Nest
 * registers routes in module order, and the relay's catch-all must come last.
 */
@Module({
  imports: [KeysModule, RelayModule],
  controllers: [HealthController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class ObservabilityModule {}
