/**
 * What every admin command shares: --address/--key/--key-file/--tls/--ca/--json
 * (with REMOTED_ADMIN_ADDRESS and REMOTED_ADMIN_KEY as fallbacks; the key's
 * precedence is key-source.ts's), one client per run, and gRPC failures
 * turned into the CLI's `remoted: <code>: <message>`.
 */
import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import type { Command } from 'commander';
import { type AdminClient, createAdminClient, DEFAULT_ADMIN_ADDRESS } from '../../admin/admin-client';
import type { CliLogger } from '../cli-logger';
import { CliError, EXIT, type ExitCode } from '../exit-codes';
import { type KeyFileOption, keySourcesHelp, resolveAdminKey, withKeyFileOption } from '../key-source';

export interface AdminOptions extends KeyFileOption {
  address?: string;
  key?: string;
  tls?: boolean;
  ca?: string;
  json?: boolean;
}

export function withAdminOptions(command: Command): Command {
  command
    .option('--address <host:port>', `control plane address [env REMOTED_ADMIN_ADDRESS, default ${DEFAULT_ADMIN_ADDRESS}]`)
    .option('--key <secret>', 'admin key (visible in ps: prefer --key-file or env REMOTED_ADMIN_KEY)');
  return withKeyFileOption(command, 'admin', 'admin key')
    .option('--tls', 'connect with TLS (system roots, or --ca)')
    .option('--ca <file>', 'PEM CA certificate to trust (implies --tls)')
    .option('--json', 'print JSON (the API messages in proto3 JSON form) instead of a table')
    .addHelpText('after', keySourcesHelp('admin'));
}

/** Runs `fn` with a client built from the options, and closes it after. */
export async function withAdminClient<T>(opts: AdminOptions, log: CliLogger, fn: (client: AdminClient) => Promise<T>): Promise<T> {
  const key = resolveAdminKey(opts, log);
  const address = opts.address ?? process.env.REMOTED_ADMIN_ADDRESS ?? DEFAULT_ADMIN_ADDRESS;
  const tls = opts.ca ? { ca: readFileSync(opts.ca) } : Boolean(opts.tls);
  const client = createAdminClient({ address, key, tls });
  try {
    return await fn(client);
  } catch (err) {
    throw toCliError(err, address);
  } finally {
    client.close();
  }
}

const EXIT_BY_STATUS: Partial<Record<status, ExitCode>> = {
  [status.UNAUTHENTICATED]: EXIT.auth,
  [status.PERMISSION_DENIED]: EXIT.auth,
  [status.INVALID_ARGUMENT]: EXIT.usage,
  [status.UNAVAILABLE]: EXIT.network,
  [status.DEADLINE_EXCEEDED]: EXIT.timeout,
};

function toCliError(err: unknown, address: string): unknown {
  if (!isServiceError(err)) return err;
  const code = status[err.code]?.toLowerCase() ?? 'grpc_error';
  const details = err.code === status.UNAVAILABLE ? unreachable(address, err.details) : err.details;
  return new CliError(code, details, EXIT_BY_STATUS[err.code as status] ?? EXIT.refused);
}

/**
 * One line a person can act on: grpc-js' details ("No connection established.
 * Last error: Error: connect ECONNREFUSED ... Resolution note: ") say the
 * same thing three ways; keep the reason, name the settings.
 */
function unreachable(address: string, details: string): string {
  const errno = /\b(E[A-Z]{4,})\b/.exec(details)?.[1];
  const reason = /name resolution failed/i.test(details) ? 'cannot resolve the host' : errno ? connectionReason(errno) : details.replace(/\s*Resolution note:.*$/s, '').trim();
  return `cannot reach the control plane at ${address} (${reason}): is the relay running, and is this its gRPC address? (--address, env REMOTED_ADMIN_ADDRESS)`;
}

function connectionReason(errno: string): string {
  const reasons: Record<string, string> = { ECONNREFUSED: 'connection refused', ETIMEDOUT: 'timed out', EHOSTUNREACH: 'host unreachable', ENETUNREACH: 'network unreachable', ECONNRESET: 'connection reset' };
  return reasons[errno] ?? errno;
}

function isServiceError(err: unknown): err is Error & { code: number; details: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'number' && typeof (err as { details?: unknown }).details === 'string';
}
