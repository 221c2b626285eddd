/**
 * The control plane's gRPC server: the admin services, health and
 * reflection on their own port, behind the admin interceptor. A plain class;
 * ControlService ties it to the Nest application's lifetime.
 */
import { type AddressInfo, createServer, type Server as NetServer } from 'node:net';
import type { DescService } from '@bufbuild/protobuf';
import { Server, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { toGrpcServiceDefinition } from '@remoted/sdk/admin';
import { Health } from '@remoted/sdk/gen/grpc/health/v1/health_pb';
import { EventService } from '@remoted/sdk/gen/remoted/admin/v1/event_service_pb';
import { KeyService } from '@remoted/sdk/gen/remoted/admin/v1/key_service_pb';
import { LinkService } from '@remoted/sdk/gen/remoted/admin/v1/link_service_pb';
import { RouteService } from '@remoted/sdk/gen/remoted/admin/v1/route_service_pb';
import { StatsService } from '@remoted/sdk/gen/remoted/admin/v1/stats_service_pb';
import type { Logger } from 'pino';
import type { GrpcConfig } from '../config/config';
import type { KeyStore } from '../keys/api-key';
import type { AuthThrottle } from '../keys/auth-throttle';
import type { RelayAdmin } from '../relay/relay-admin';
import { createAdminAuthInterceptor } from './admin-auth.interceptor';
import { eventServiceHandlers } from './event-service.handlers';
import type { EventHub } from './event-hub';
import { implement } from './grpc-handlers';
import { serverCredentials } from './grpc-credentials';
import { healthServiceHandlers } from './health-service.handlers';
import type { KeyEvents } from './key-events';
import { keyServiceHandlers } from './key-service.handlers';
import { linkServiceHandlers } from './link-service.handlers';
import { createReflectionService } from './reflection';
import type { RelayStats } from './relay-stats';
import { routeServiceHandlers } from './route-service.handlers';
import { statsServiceHandlers } from './stats-service.handlers';

/** Time in-flight calls get at shutdown before the server is forced down. */
export const SHUTDOWN_GRACE_MS = 2000;

export const ADMIN_SERVICES: readonly DescService[] = [KeyService, RouteService, LinkService, EventService, StatsService];

export interface ControlDeps {
  config: GrpcConfig;
  store: KeyStore;
  /** The relay's door: views, counts and forced disconnects. */
  relay: RelayAdmin;
  hub: EventHub;
  keyEvents: KeyEvents;
  stats: RelayStats;
  /** Failed admin authentications per address: the control plane's own table. */
  authThrottle: AuthThrottle;
  log: Logger;
}

export class ControlServer {
  private readonly server: Server;
  private readonly streams: Array<{ endAll(): void }> = [];
  private boundPort: number | undefined;
  private listener: NetServer | undefined;

  constructor(private readonly deps: ControlDeps) {
    const { store, relay, hub, keyEvents, stats, log, authThrottle } = deps;
    const { maxConcurrentStreams, maxConnectionIdleMs, maxUnauthenticatedCalls } = deps.config;
    this.server = new Server({
      // grpc-js advertises no stream limit unless told; clients queue calls past this one.
      'grpc.max_concurrent_streams': maxConcurrentStreams,
      'grpc.max_connection_idle_ms': maxConnectionIdleMs,
      interceptors: [createAdminAuthInterceptor({ store, log, throttle: authThrottle, now: Date.now, maxUnauthenticatedCalls })],
    });
    const events = eventServiceHandlers(hub);
    const health = healthServiceHandlers([...ADMIN_SERVICES, Health].map((s) => s.typeName));
    this.streams.push(events, health);
    this.add(KeyService, implement(KeyService, keyServiceHandlers(store, keyEvents, relay), log));
    this.add(RouteService, implement(RouteService, routeServiceHandlers(relay), log));
    this.add(LinkService, implement(LinkService, linkServiceHandlers(relay), log));
    this.add(EventService, implement(EventService, events, log));
    this.add(StatsService, implement(StatsService, statsServiceHandlers(stats), log));
    this.add(Health, implement(Health, health, log));
    createReflectionService([...ADMIN_SERVICES, Health]).addToServer(this.server);
  }

  /** The port bound (the configured one, or the one picked for 0). */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('the control plane is not listening');
    return this.boundPort;
  }

  get tls(): boolean {
    return Boolean(this.deps.config.tlsCertFile);
  }

  /**
   * Listens with a plain net server that hands each connection to grpc-js
   * (its connection injector, TLS included): grpc-js has no bound on the
   * connections it holds, and net.Server's maxConnections closes the ones
   * past it as they are accepted.
   */
  async start(): Promise<number> {
    const { host, port, maxConnections } = this.deps.config;
    const injector = this.server.createConnectionInjector(serverCredentials(this.deps.config));
    const listener = createServer((socket) => injector.injectConnection(socket));
    listener.maxConnections = maxConnections;
    listener.on('drop', () => this.deps.log.debug({ limit: maxConnections }, 'control plane: connection limit reached; connection closed'));
    this.listener = listener;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => {
        listener.off('error', reject);
        resolve((listener.address() as AddressInfo).port);
      });
    });
    return this.boundPort;
  }

  /** Ends open streams, lets other calls finish for a grace period, then forces the rest. */
  async stop(graceMs: number = SHUTDOWN_GRACE_MS): Promise<void> {
    // No new connections; the ones held are grpc-js' sessions, ended below.
    this.listener?.close();
    for (const streams of this.streams) streams.endAll();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private add(service: DescService, implementation: UntypedServiceImplementation): void {
    this.server.addService(toGrpcServiceDefinition(service), implementation);
  }
}
