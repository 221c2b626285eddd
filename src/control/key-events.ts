/**
 * Key lifecycle events. Keys are created and revoked only through the control
 * plane (or at bootstrap, before anyone watches), so it emits them itself.
 */
import { EventEmitter } from 'node:events';
import type { ApiKey } from '../keys/api-key';

export interface KeyEventMap {
  'key:create': [ApiKey];
  'key:revoke': [ApiKey];
}

export class KeyEvents extends EventEmitter<KeyEventMap> {}
