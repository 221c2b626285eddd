import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { CONFIG } from '../config/config.constants';
import type { Config } from '../config/config';
import type { KeyStore } from './api-key';
import { KeyAuthenticator } from './key-authenticator';
import { KEY_STORE } from './keys.constants';
import { KeysService } from './keys.service';
import { SqliteKeyStore } from './sqlite-key-store';

export const KEY_DATABASE_FILE = 'remoted.sqlite';

@Module({
  providers: [
    {
      provide: KEY_STORE,
      inject: [CONFIG],
      useFactory: (config: Config): KeyStore => new SqliteKeyStore(join(config.dataDir, KEY_DATABASE_FILE)),
    },
    { provide: KeyAuthenticator, inject: [KEY_STORE], useFactory: (store: KeyStore) => new KeyAuthenticator(store) },
    KeysService,
  ],
  exports: [KEY_STORE, KeyAuthenticator, KeysService],
})
export class KeysModule {}
