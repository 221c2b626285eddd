import { join } from 'node:path';
import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.constants';
import type { Config } from '../config/config';
import { LOGGER } from '../logging/logging.constants';
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
      inject: [CONFIG, LOGGER],
      useFactory: (config: Config, log: Logger): KeyStore => {
        const store = new SqliteKeyStore(join(config.dataDir, KEY_DATABASE_FILE));
        for (const { path, mode, fix } of store.loosePermissions) {
          log.warn({ path, mode, fix }, 'the key database is readable by group or others: the key digests in it are worth keeping private');
        }
        return store;
      },
    },
    { provide: KeyAuthenticator, inject: [KEY_STORE], useFactory: (store: KeyStore) => new KeyAuthenticator(store) },
    KeysService,
  ],
  exports: [KEY_STORE, KeyAuthenticator, KeysService],
})
export class KeysModule {}
