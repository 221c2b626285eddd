import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ListenerGateway } from './routes/listener-gateway';
import { RelayEvents } from './context/relay-events';
import { RelayTally } from './relay-tally';
import { PlainRequestFilter } from './port/plain-request.filter';
import { RelayAdmin } from './relay-admin';
import { RelayService } from './relay.service';

@Module({
  providers: [
    { provide: APP_FILTER, useClass: PlainRequestFilter },
    { provide: RelayEvents, useFactory: () => new RelayEvents() },
    // Counting starts with the relay, before any listener can connect.
    { provide: RelayTally, inject: [RelayEvents], useFactory: (events: RelayEvents) => new RelayTally(events) },
    // The listeners' WebSocket (served through ListenerWsAdapter, never on 'upgrade' itself).
    ListenerGateway,
    RelayService,
    // The door readers use (control plane, metrics, tests): views and counts, never live objects.
    { provide: RelayAdmin, inject: [RelayService], useFactory: (relay: RelayService) => relay.admin },
  ],
  exports: [RelayEvents, RelayTally, RelayService, RelayAdmin],
})
export class RelayModule {}
