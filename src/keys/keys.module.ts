import { join } from 'node:path';
import { type DynamicModule, Global, Module } from '@nestjs/common';
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

/** Opens the store the relay's keys live in: the composition passes Redis's in cluster mode (src/cluster/). */
export type KeyStoreOpener = (config: Config, log: Logger) => Promise<KeyStore>;

/** The embedded store: one SQLite file in the data directory. */
export const openSqliteKeyStore: KeyStoreOpener = async (config, log) => {
  const store = new SqliteKeyStore(join(config.dataDir, KEY_DATABASE_FILE));
  for (const { path, mode, fix } of store.loosePermissions) {
    log.warn({ path, mode, fix }, 'the key database is readable by group or others: the key digests in it are worth keeping private');
  }
  return store;
};

/** The key store, registered once by the app (with the opener of its mode) for every module that needs keys. */
@Global()
@Module({})
export class KeysModule {
  static register(openStore: KeyStoreOpener = openSqliteKeyStore): DynamicModule {
    return {
      module: KeysModule,
      providers: [
        { provide: KEY_STORE, inject: [CONFIG, LOGGER], useFactory: (config: Config, log: Logger): Promise<KeyStore> => openStore(config, log) },
        { provide: KeyAuthenticator, inject: [KEY_STORE], useFactory: (store: KeyStore) => new KeyAuthenticator(store) },
        KeysService,
      ],
      exports: [KEY_STORE, KeyAuthenticator, KeysService],
    };
  }
}
