import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { MemoryRouteRegistry } from './memory-route-registry';
import { ROUTE_REGISTRY } from './relay.constants';
import { RelayEvents } from './relay-events';
import { RelayFallbackController } from './relay-fallback.controller';
import { RelayService } from './relay.service';

@Module({
  imports: [KeysModule],
  controllers: [RelayFallbackController],
  providers: [
    { provide: ROUTE_REGISTRY, useFactory: () => new MemoryRouteRegistry() },
    { provide: RelayEvents, useFactory: () => new RelayEvents() },
    RelayService,
  ],
  exports: [ROUTE_REGISTRY, RelayEvents, RelayService],
})
export class RelayModule {}
