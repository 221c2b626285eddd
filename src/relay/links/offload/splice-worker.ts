/**
 * The splice worker: a plain Node process (no Nest, no gRPC) that relays the
 * links the relay hands it. Bulk bytes cost the least in a process with a
 * tiny heap: each GC that the read buffers of a busy link set off marks the
 * whole heap, and the relay's is several times a bare relay's.
 *
 * The pool forks this file (its compiled .js) as the worker's main module.
 * The relay stops reading and flushes before it hands a link over, so the
 * worker writes the bytes it is given first, then pipes both ways with the
 * same half-close rule as Link (half-close.ts).
 */
import type { Socket } from 'node:net';
import { leavesPeerAlone } from '../half-close';
import type { FromSpliceWorker, SpliceCounts, ToSpliceWorker } from './splice-messages';

export function spliceWorkerMain(): void {
  /** How often the counts of links that moved bytes go back to the relay. */
  const REPORT_INTERVAL_MS = 200;

  interface WorkerLink {
    id: string;
    /** 0 is the dialer, 1 the listener. */
    sockets: [Socket | undefined, Socket | undefined];
    firsts: [Buffer, Buffer];
    /** Side messages received (with or without their socket): the relay always sends both. */
    arrived: number;
    /** Sockets received, and how many of those have closed. */
    present: number;
    closed: number;
    /** Never spliced or no longer relaying: every socket it has goes. */
    doomed: boolean;
    errored: boolean;
    reportedRead: number;
  }
  type LinkedSocket = Socket & { spliceLink?: WorkerLink };

  const links = new Map<string, WorkerLink>();

  /** The relay is gone (exited, crashed or killed): its links go with it, and so does this process. */
  const exitWithRelay = (): void => {
    for (const link of links.values()) for (const socket of link.sockets) socket?.destroy();
    process.exit(0);
  };

  const send = (message: FromSpliceWorker): void => {
    if (!process.connected) return;
    process.send?.(message, undefined, {}, (err: Error | null) => {
      if (err) exitWithRelay();
    });
  };

  const countsOf = (link: WorkerLink): SpliceCounts => {
    const [dialer, listener] = link.sockets;
    return {
      toDialer: dialer?.bytesWritten ?? 0,
      toListener: listener?.bytesWritten ?? 0,
      read: (dialer?.bytesRead ?? 0) + (listener?.bytesRead ?? 0),
    };
  };

  const finishIfDone = (link: WorkerLink): void => {
    if (link.arrived < 2 || link.closed < link.present || !links.delete(link.id)) return;
    send({ type: 'closed', link: link.id, counts: countsOf(link), error: link.errored });
  };

  const doom = (link: WorkerLink, error: boolean): void => {
    link.errored ||= error;
    link.doomed = true;
    for (const socket of link.sockets) socket?.destroy();
    finishIfDone(link);
  };

  function onSocketError(this: LinkedSocket): void {
    if (this.spliceLink) doom(this.spliceLink, true);
  }

  function onSocketClose(this: LinkedSocket): void {
    const link = this.spliceLink;
    if (!link) return;
    const other = link.sockets[0] === this ? link.sockets[1] : link.sockets[0];
    if (other && leavesPeerAlone(this, other)) other.destroy();
    // Gone before the other side arrived: that one is destroyed as it comes.
    if (link.arrived < 2) link.doomed = true;
    link.closed++;
    finishIfDone(link);
  }

  const linkFor = (id: string): WorkerLink => {
    let link = links.get(id);
    if (!link) {
      link = { id, sockets: [undefined, undefined], firsts: [Buffer.alloc(0), Buffer.alloc(0)], arrived: 0, present: 0, closed: 0, doomed: false, errored: false, reportedRead: 0 };
      links.set(id, link);
    }
    return link;
  };

  const adopt = (message: Extract<ToSpliceWorker, { type: 'side' }>, socket: Socket | undefined): void => {
    const link = linkFor(message.link);
    link.arrived++;
    if (socket) {
      (socket as LinkedSocket).spliceLink = link;
      // A socket made from a sent handle would end its writable side at the peer's FIN; a link passes the FIN on instead.
      socket.allowHalfOpen = true;
      socket.on('error', onSocketError);
      socket.on('close', onSocketClose);
      link.sockets[message.side] = socket;
      link.firsts[message.side] = Buffer.from(message.first, 'base64');
      link.present++;
    }
    // No socket: the relay's side closed before it could move, so the link is over.
    if (!socket || link.doomed) return doom(link, !socket);
    if (link.arrived < 2) return;
    const [dialer, listener] = link.sockets as [Socket, Socket];
    for (const [i, first] of link.firsts.entries()) if (first.length > 0) link.sockets[i]!.write(first);
    link.firsts = [Buffer.alloc(0), Buffer.alloc(0)];
    dialer.pipe(listener);
    listener.pipe(dialer);
    send({ type: 'adopted', link: link.id });
  };

  process.on('message', (message: ToSpliceWorker, socket?: Socket) => {
    if (message.type === 'side') adopt(message, socket);
    else if (message.type === 'destroy') {
      const link = links.get(message.link);
      if (link) doom(link, false);
    }
  });

  setInterval(() => {
    const moved: [string, SpliceCounts][] = [];
    for (const link of links.values()) {
      const counts = countsOf(link);
      if (counts.read === link.reportedRead) continue;
      link.reportedRead = counts.read;
      moved.push([link.id, counts]);
    }
    if (moved.length > 0) send({ type: 'counts', links: moved });
  }, REPORT_INTERVAL_MS).unref();

  process.on('disconnect', exitWithRelay);

  send({ type: 'ready' });
}

// Run as the worker process (forked by splice-pool.ts); imported, it only defines the function.
if (require.main === module) spliceWorkerMain();
