/**
 * grpc.health.v1.Health: SERVING for the server as a whole ("") and for each
 * service it serves; NOT_FOUND for any other name, as the protocol says.
 */
import { status } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, type Health } from '@remoted/sdk/gen/grpc/health/v1/health_pb';
import { ControlError } from './control-error';
import type { HandlersOf } from './grpc-handlers';

export function healthServiceHandlers(serviceNames: readonly string[]): HandlersOf<typeof Health> & { endAll(): void } {
  const known = new Set(['', ...serviceNames]);
  const watches = new Set<() => void>();
  return {
    check(request) {
      if (!known.has(request.service)) throw new ControlError(status.NOT_FOUND, `service "${request.service}" is not served here`);
      return { status: HealthCheckResponse_ServingStatus.SERVING };
    },
    watch(request, call) {
      // The status never changes while the server runs: send it once, keep the stream open.
      call.write({
        status: known.has(request.service) ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN,
      });
      const end = (): void => {
        watches.delete(end);
        if (!call.writableEnded) call.end();
      };
      watches.add(end);
      call.on('cancelled', end);
    },
    endAll() {
      for (const end of [...watches]) end();
    },
  };
}
