import { Module } from '@nestjs/common';
import { RelayAdmin } from '../relay/relay-admin';
import { RelayEvents } from '../relay/context/relay-events';
import { RelayModule } from '../relay/relay.module';
import { ControlService } from './control.service';
import { EventHub } from './event-hub';
import { KeyEvents } from './key-events';

/**
 * The gRPC control plane: a thin adapter over the key store, the relay's
 * door (relay-admin) and its events. Its event hub and key events are providers of their
 * own, exported, so that the status page watches the same ordered stream as
 * gRPC Watch and its revocations are the same `key:revoke` events.
 */
@Module({
  imports: [RelayModule],
  providers: [
    ControlService,
    { provide: KeyEvents, useFactory: () => new KeyEvents() },
    {
      provide: EventHub,
      inject: [RelayEvents, KeyEvents, RelayAdmin],
      useFactory: (relayEvents: RelayEvents, keyEvents: KeyEvents, relay: RelayAdmin) => {
        const hub = new EventHub(relayEvents, keyEvents, relay);
        hub.start();
        return hub;
      },
    },
  ],
  exports: [ControlService, EventHub, KeyEvents],
})
export class ControlModule {}
