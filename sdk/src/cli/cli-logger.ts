/** Logs of the CLI: one line each, to stderr (stdout may be the link, as for `remoted dial`). */

export type CliLogLevel = 'quiet' | 'info' | 'debug';

export interface CliLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

const RANK: Record<CliLogLevel, number> = { quiet: 0, info: 1, debug: 2 };

/** `level` is read on each call, so global flags parsed after the logger was made still count. */
export function createCliLogger(level: () => CliLogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): CliLogger {
  const at = (min: CliLogLevel, message: string): void => {
    if (RANK[level()] >= RANK[min]) write(`remoted: ${message}\n`);
  };
  return {
    debug: (message) => at('debug', message),
    info: (message) => at('info', message),
    // Warnings are shown unless --quiet.
    warn: (message) => at('info', `warning: ${message}`),
  };
}
