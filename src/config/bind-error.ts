/**
 * A port the relay could not bind, told as the setting to change: a
 * ConfigError (exit 2) such as `port 37792 (REMOTED_GRPC_PORT, --grpc-port)
 * is in use on 127.0.0.1`, not "failed to start: listen EADDRINUSE".
 */
import { CONFIG_FIELDS } from './config-fields';
import { ConfigError } from './load-config';

export interface BindTarget {
  /** The config paths of the port and of the host it binds: 'port' and 'host', 'grpc.port' and 'grpc.host', ... */
  portPath: string;
  hostPath: string;
  port: number;
  host: string;
  /** What 0 does for this port, when it does not pick a free one (the status page: 0 turns it off). */
  zeroMeans?: string;
}

/** A ConfigError for the bind errors a setting explains; any other error as it came. */
export function bindError(err: unknown, target: BindTarget): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const port = `port ${target.port} (${named(target.portPath)})`;
  const fix = `set ${named(target.portPath)} to a free port (0 ${target.zeroMeans ?? 'picks one'})`;
  if (code === 'EADDRINUSE') return new ConfigError([`${port} is in use on ${target.host}: stop what holds it, or ${fix}`]);
  if (code === 'EACCES') return new ConfigError([`${port} needs privileges on ${target.host} (ports below 1024 do): ${fix}`]);
  if (code === 'EADDRNOTAVAIL') return new ConfigError([`host ${target.host} (${named(target.hostPath)}) is not an address of this machine: use one it has, or 0.0.0.0`]);
  return err;
}

function named(path: string): string {
  const field = CONFIG_FIELDS.find((f) => f.path === path);
  if (!field) throw new Error(`bug: no setting ${path}`);
  return `${field.env}, --${field.flag}`;
}
