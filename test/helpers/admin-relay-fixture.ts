/**
 * A relay with an admin client and the raw listeners a test opened, for the
 * suites that change keys over gRPC and watch what the relay does.
 */
import type { ClientOptions } from 'ws';
import type { AdminClient } from '@remoted/sdk/admin';
import type { Config } from '../../src/config/config';
import type { DeepPartial } from '../../src/config/load-config';
import { adminClientFor } from '../control/control-helpers';
import { TestListener } from './relay-peers';
import { type StartedRelay, startRelay } from './start-relay';

export class AdminRelayFixture {
  private started: { relay: StartedRelay; admin: AdminClient } | undefined;
  private readonly listeners: TestListener[] = [];

  async start(overrides: DeepPartial<Config> = {}): Promise<void> {
    const relay = await startRelay(overrides);
    this.started = { relay, admin: adminClientFor(relay) };
  }

  get relay(): StartedRelay {
    if (!this.started) throw new Error('start() the fixture first');
    return this.started.relay;
  }

  get admin(): AdminClient {
    if (!this.started) throw new Error('start() the fixture first');
    return this.started.admin;
  }

  /** A raw listener on the relay, closed by close(). */
  async openListener(path: string, key: string, options: ClientOptions = {}): Promise<TestListener> {
    const listener = await TestListener.openUrl(`ws://127.0.0.1:${this.relay.port}${path}`, key, options);
    this.listeners.push(listener);
    return listener;
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.splice(0).map((l) => l.close()));
    if (!this.started) return;
    this.started.admin.close();
    await this.started.relay.close();
    this.started = undefined;
  }
}
