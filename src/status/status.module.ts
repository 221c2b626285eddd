import { Module } from '@nestjs/common';
import { ControlModule } from '../control/control.module';
import { RelayModule } from '../relay/relay.module';
import { StatusService } from './status.service';

/**
 * The live status page on its own admin port: reads the relay through its
 * door, keys through the store, and events from the control plane's EventHub
 * (the same stream gRPC Watch sends).
 */
@Module({
  imports: [RelayModule, ControlModule],
  providers: [StatusService],
  exports: [StatusService],
})
export class StatusModule {}
