/**
 * Where every command finds its key, and the one place that decides it.
 * A key on the command line (in a URL, or an admin command's --key) is in
 * every local user's `ps` and in shell history, so the CLI also takes it from
 * a file that only its owner can read (--key-file) or from the environment.
 *
 * Precedence, for each URL (a hop of a chain) or admin command:
 *   1. the key written on the command line: the URL's user part, or --key
 *      (works, with one warning on stderr);
 *   2. --key-file PATH: the file's first line; refused when group or others
 *      have any access to it (mode & 0o077), as ssh refuses a private key;
 *   3. the environment: REMOTED_KEY (expose, forward, dial) or
 *      REMOTED_ADMIN_KEY (admin commands).
 * --key-file together with a key on the command line is a usage error: one
 * of them would be silently ignored.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { urlCarriesKey } from '../wire/urls';
import type { CliLogger } from './cli-logger';
import { CliError, EXIT } from './exit-codes';

/** Which key a command needs: a server/client key for the data plane, an admin key for the control plane. */
export type KeyPlane = 'data' | 'admin';

export const KEY_ENV: Record<KeyPlane, string> = { data: 'REMOTED_KEY', admin: 'REMOTED_ADMIN_KEY' };

/** Group and others: any of read, write, execute. */
const SHARED_MODE_BITS = 0o077;

export interface KeyFileOption {
  keyFile?: string;
}

/** Adds --key-file to a command; `what` names the key in --help. */
export function withKeyFileOption(command: Command, plane: KeyPlane, what: string): Command {
  return command.option('--key-file <path>', `read the ${what} from this file (mode 0600 or stricter; a trailing newline is dropped) [else env ${KEY_ENV[plane]}]`);
}

/** The text every command's --help ends with: where the key comes from. */
export function keySourcesHelp(plane: KeyPlane): string {
  const onCommandLine = plane === 'data' ? 'in the URL (rws://KEY@host/path)' : 'with --key';
  return (
    `\nKey: from --key-file PATH (mode 0600), else env ${KEY_ENV[plane]}; a key ${onCommandLine} is used as written but ` +
    'is visible to every local user in ps (a warning says so). --key-file with a key on the command line is a usage error (exit 2), ' +
    'as are no key at all and a key file that group or others can read.'
  );
}

/**
 * The key to use where the command line gives none: --key-file, else the
 * environment; undefined when neither has one.
 */
export function fallbackKey(plane: KeyPlane, opts: KeyFileOption, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (opts.keyFile !== undefined) return readKeyFile(opts.keyFile);
  const fromEnv = env[KEY_ENV[plane]];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/**
 * Resolves the key for the URLs of a data-plane command (one, or the hops of
 * a dial string): returns the key for URLs that carry none, undefined when
 * every URL carries its own. Warns once for keys written in a URL.
 */
export function resolveUrlKey(urls: string, opts: KeyFileOption, log: CliLogger, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const parts = urls.trim().split(/\s+/).filter((part) => /^rw[sr]s?:/i.test(part));
  const withKey = parts.filter(urlCarriesKey).length;
  if (withKey > 0 && opts.keyFile !== undefined && withKey === parts.length) {
    throw new CliError('conflicting_keys', 'both --key-file and a key in the URL: give the key one way (drop it from the URL)');
  }
  if (withKey > 0) warnCommandLineKey('data', log);
  if (withKey === parts.length) return undefined;
  const key = fallbackKey('data', opts, env);
  if (key === undefined) throw missingKey('data');
  return key;
}

/** The admin key: --key (warned about), else --key-file, else REMOTED_ADMIN_KEY. */
export function resolveAdminKey(opts: KeyFileOption & { key?: string }, log: CliLogger, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.key !== undefined) {
    if (opts.keyFile !== undefined) throw new CliError('conflicting_keys', 'both --key and --key-file: give the admin key one way (drop --key)');
    warnCommandLineKey('admin', log);
    return opts.key;
  }
  const key = fallbackKey('admin', opts, env);
  if (key === undefined) throw missingKey('admin');
  return key;
}

/**
 * Reads a key file: its one line, without the trailing newline. Refuses a
 * file that group or others may access, before reading a byte of it.
 */
export function readKeyFile(path: string, label = `--key-file ${path}`): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new CliError('key_file_unreadable', `cannot read ${label}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    // fstat on the opened file: the file checked is the file read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new CliError('key_file_unreadable', `${label} is not a regular file`);
    // Windows has no such mode bits; its ACLs are the owner's business.
    if (process.platform !== 'win32' && (stat.mode & SHARED_MODE_BITS) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new CliError('key_file_exposed', `${label} is open to group or others (mode ${mode}): run chmod 600 ${path}`);
    }
    const key = readFileSync(fd, 'utf8').replace(/\r?\n$/, '');
    if (key === '') throw new CliError('key_file_empty', `${label} is empty`);
    if (/[\r\n]/.test(key)) throw new CliError('key_file_invalid', `${label} has more than one line: write the key alone`);
    return key;
  } finally {
    closeSync(fd);
  }
}

function warnCommandLineKey(plane: KeyPlane, log: CliLogger): void {
  const where = plane === 'data' ? 'a key in the URL' : '--key';
  log.warn(`${where} is visible to every local user (ps, /proc) and stays in shell history; set ${KEY_ENV[plane]} or use --key-file PATH (mode 0600) instead`);
}

function missingKey(plane: KeyPlane): CliError {
  const inline = plane === 'data' ? 'or write it in the URL (visible in ps)' : 'or pass --key (visible in ps)';
  return new CliError(plane === 'data' ? 'missing_key' : 'missing_admin_key', `no key: set ${KEY_ENV[plane]}, pass --key-file PATH, ${inline}`, EXIT.usage);
}
