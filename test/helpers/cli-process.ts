/** The built `remoted` CLI (sdk/dist; `npm run build:sdk` first) as a real child process, with its stderr watched. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'sdk', 'dist', 'cli', 'main.js');

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `pattern` in stderr, or fails after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  /** SIGTERM if it still runs; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Spawns `remoted ...args`. The child's environment is ours without the key
 * variables, plus `env`: a test says which keys it gives.
 */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const childEnv = { ...process.env };
  delete childEnv.REMOTED_KEY;
  delete childEnv.REMOTED_ADMIN_KEY;
  const child = spawn(process.execPath, [CLI, ...args], { stdio: 'pipe', env: { ...childEnv, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    child.stderr.emit('log');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForLog: (pattern, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(stderr);
          if (!match) return;
          clearTimeout(timer);
          child.stderr.off('log', check);
          resolve(match);
        };
        const timer = setTimeout(() => {
          child.stderr.off('log', check);
          reject(new Error(`no ${pattern} in stderr within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        child.stderr.on('log', check);
        check();
      }),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** SIGTERM if it still runs; resolves with its exit code. */
export function stop(cli: CliProcess): Promise<number | null> {
  return cli.stop();
}
