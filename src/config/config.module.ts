import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Config } from './config';
import { CONFIG } from './config.constants';

/** Provides the Config that main.ts (or a test) loaded and validated. */
@Global()
@Module({})
export class ConfigModule {
  static register(config: Config): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}
