import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { RelayModule } from '../relay/relay.module';
import { ControlService } from './control.service';

/** The gRPC control plane: a thin adapter over the key store and the relay's registry and events. */
@Module({
  imports: [KeysModule, RelayModule],
  providers: [ControlService],
  exports: [ControlService],
})
export class ControlModule {}
