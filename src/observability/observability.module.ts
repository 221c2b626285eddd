import { Module } from '@nestjs/common';
import { RelayModule } from '../relay/relay.module';
import { HealthController } from './health.controller';
import { MetricsService } from './metrics.service';

/**
 * Metrics and health endpoints: the only plain GETs the relay port serves.
 * Any other plain request meets no route and is answered by the relay's
 * PlainRequestFilter with the protocol's JSON error.
 */
@Module({
  imports: [RelayModule],
  controllers: [HealthController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class ObservabilityModule {}
