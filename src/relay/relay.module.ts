import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { KeysModule } from '../keys/keys.module';
import { ListenerGateway } from './listener-gateway';
import { MemoryRouteRegistry } from './memory-route-registry';
import { ROUTE_REGISTRY } from './relay.constants';
import { RelayEvents } from './relay-events';
import { RelayTally } from './relay-tally';
import { PlainRequestFilter } from './plain-request.filter';
import { RelayAdmin } from './relay-admin';
import { RelayService } from './relay.service';
import type { RouteRegistry } from './route-registry';

@Module({
  imports: [KeysModule],
  providers: [
    { provide: APP_FILTER, useClass: PlainRequestFilter },
    { provide: ROUTE_REGISTRY, useFactory: () => new MemoryRouteRegistry() },
    { provide: RelayEvents, useFactory: () => new RelayEvents() },
    // Counting starts with the relay, before any listener can connect.
    { provide: RelayTally, inject: [RelayEvents], useFactory: (events: RelayEvents) => new RelayTally(events) },
    // The listeners' WebSocket (served through ListenerWsAdapter, never on 'upgrade' itself).
    ListenerGateway,
    RelayService,
    // The door readers use (control plane, metrics, tests): views and counts, never live objects.
    { provide: RelayAdmin, inject: [ROUTE_REGISTRY, RelayService], useFactory: (registry: RouteRegistry, relay: RelayService) => new RelayAdmin(registry, relay, relay) },
  ],
  exports: [ROUTE_REGISTRY, RelayEvents, RelayTally, RelayService, RelayAdmin],
})
export class RelayModule {}
