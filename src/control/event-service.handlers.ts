/**
 * EventService: each Watch call is one watcher of the hub. Response headers
 * go out once the watcher is registered, so a client that waits for them
 * misses nothing. A watcher that cannot keep up is ended, not buffered for.
 */
import { Metadata, status } from '@grpc/grpc-js';
import type { EventService } from '@remoted/sdk/gen/remoted/admin/v1/event_service_pb';
import type { EventHub } from './event-hub';
import type { HandlersOf } from './grpc-handlers';

/** Events queued for one slow watcher before its stream is ended. */
export const MAX_WATCH_BACKLOG = 10_000;

export interface WatchRegistry {
  /** Ends every open watch (shutdown), so the server can close. */
  endAll(): void;
}

export function eventServiceHandlers(hub: EventHub): HandlersOf<typeof EventService> & WatchRegistry {
  const open = new Set<() => void>();
  return {
    watchEvents(_request, call) {
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        unsubscribe();
        open.delete(end);
        if (!call.writableEnded) call.end();
      };
      const unsubscribe = hub.subscribe((event) => {
        if (call.writableLength >= MAX_WATCH_BACKLOG) {
          ended = true;
          unsubscribe();
          open.delete(end);
          call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `watcher fell ${MAX_WATCH_BACKLOG} events behind; watch again` });
          return;
        }
        call.write({ event });
      });
      open.add(end);
      call.on('cancelled', end);
      call.on('close', end);
      call.sendMetadata(new Metadata());
    },
    endAll() {
      for (const end of [...open]) end();
    },
  };
}
