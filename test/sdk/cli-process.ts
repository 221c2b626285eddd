/** The built `remoted` CLI (sdk/dist) as a child process, with its stderr watched line by line. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'sdk', 'dist', 'cli', 'main.js');

export interface Cli {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  /** Resolves with the first match of `pattern` in stderr. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/**
 * Spawns `remoted ...args`. The child's environment is ours without the key
 * variables, plus `env`: a test says which keys it gives.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Cli {
  const childEnv = { ...process.env };
  delete childEnv.REMOTED_KEY;
  delete childEnv.REMOTED_ADMIN_KEY;
  const child = spawn(process.execPath, [CLI, ...args], { stdio: 'pipe', env: { ...childEnv, ...env } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    child.stderr.emit('log');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
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
  };
}

export async function stop(cli: Cli): Promise<number | null> {
  if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
  return cli.exited;
}

