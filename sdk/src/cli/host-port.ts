/** `host:port`, `[::1]:port` or a bare port, as given to --to and --listen. */
import { CliError } from './exit-codes';

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(text: string, defaultHost = '127.0.0.1'): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError('invalid_address', `Expected host:port, got "${text}".`);
  }
  const host = match[1] || match[2] || defaultHost;
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
