import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CONFIG } from '../config/config.constants';
import type { Config } from '../config/config';
import type { KeyStore } from './api-key';
import { bootstrapKeys, type GeneratedKey } from './bootstrap-keys';
import { KEY_STORE } from './keys.constants';

/** Owns the key store's lifetime and the keys made at first start. */
@Injectable()
export class KeysService implements OnModuleInit, OnApplicationShutdown {
  private generated: GeneratedKey[] = [];

  constructor(
    @Inject(KEY_STORE) readonly store: KeyStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async onModuleInit(): Promise<void> {
    this.generated = await bootstrapKeys(this.store, {
      server: this.config.serverKey,
      client: this.config.clientKey,
      admin: this.config.adminKey,
    });
  }

  /** The keys generated at this start, handed out once so they are printed once. */
  takeGeneratedKeys(): GeneratedKey[] {
    const keys = this.generated;
    this.generated = [];
    return keys;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
