/**
 * Notices when the certificate or key file changes, so the relay can reload
 * them without a SIGHUP. It polls stat() rather than using fs.watch: certbot
 * and editors replace files by rename and certbot's live/ names are symlinks
 * it re-points, and a poll of the path sees all of these (a new inode, a new
 * mtime) where an inotify watch on the old inode would go quiet.
 */
import { stat } from 'node:fs/promises';

export interface TlsFileWatcherOptions {
  /** How often the files are looked at. */
  pollIntervalMs: number;
  /**
   * Quiet time after the last change seen before `onChange` runs: a
   * certificate and key written one after the other reload once, together.
   */
  settleMs: number;
}

export const DEFAULT_TLS_WATCH: TlsFileWatcherOptions = { pollIntervalMs: 250, settleMs: 200 };

export class TlsFileWatcher {
  /** One timer polls every file (one tick for the pair, not one each). */
  private poll: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private lastSeen: string | undefined;
  private polling = false;
  private stopped = false;

  constructor(
    private readonly files: readonly string[],
    private readonly onChange: () => void,
    private readonly options: TlsFileWatcherOptions = DEFAULT_TLS_WATCH,
  ) {}

  async start(): Promise<void> {
    this.lastSeen = await this.signature();
    if (this.stopped) return;
    this.poll = setInterval(this.tick, this.options.pollIntervalMs);
    // Shutdown stops it; until then it must not be what keeps a process alive.
    this.poll.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
    clearTimeout(this.settle);
    this.poll = undefined;
    this.settle = undefined;
  }

  private readonly tick = (): void => {
    // A slow disk must not pile up stat calls.
    if (this.polling) return;
    this.polling = true;
    this.signature().then((seen) => {
      this.polling = false;
      if (this.stopped || seen === this.lastSeen) return;
      this.lastSeen = seen;
      clearTimeout(this.settle);
      this.settle = setTimeout(this.settled, this.options.settleMs);
      this.settle.unref();
    });
  };

  private readonly settled = (): void => {
    this.settle = undefined;
    if (!this.stopped) this.onChange();
  };

  /** Identity and last change of every file; a missing file counts as a state of its own. */
  private async signature(): Promise<string> {
    const parts = await Promise.all(
      this.files.map((file) =>
        stat(file, { bigint: true }).then(
          (s) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`,
          () => 'missing',
        ),
      ),
    );
    return parts.join('|');
  }
}
