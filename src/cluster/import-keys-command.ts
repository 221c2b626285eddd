/**
 * `remoted-relay import-keys --from <file>`: moves the keys of a single
 * node's SQLite file into the Redis of a cluster (docs/cluster.md, growing
 * from one node). Keys keep their ids and secrets (only digests move), so
 * every SDK and listener keeps its key. All or nothing: a key already in
 * Redis stops the import before anything is written.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load-config';
import { redactedUrl } from './redis-connection';
import { ImportConflictError, RedisKeyStore } from './redis-key-store';
import { importKeys } from './import-keys';

export const IMPORT_KEYS_COMMAND = 'import-keys';

/** Exit codes: 0 imported, 1 nothing imported (a conflict, Redis unreachable), 2 a bad setting. */
export async function runImportKeys(argv: readonly string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const program = new Command(`remoted-relay ${IMPORT_KEYS_COMMAND}`)
    .description('Copy every key of a SQLite key file (a single node\'s data/remoted.sqlite) into the Redis of a cluster. Ids and secrets are kept; nothing is written if any key is already there.')
    .requiredOption('--from <file>', 'the SQLite key file, e.g. ./data/remoted.sqlite')
    .option('--redis-url <url>', 'the cluster\'s Redis [env REMOTED_REDIS_URL]')
    .option('--cluster-secret <secret>', 'the cluster\'s secret, the same as the nodes\' [env REMOTED_CLUSTER_SECRET; prefer the environment: arguments show in ps]')
    .allowExcessArguments(false)
    .showHelpAfterError()
    .exitOverride();
  let options: { from: string; redisUrl?: string; clusterSecret?: string };
  try {
    program.parse([...argv], { from: 'user' });
    options = program.opts();
  } catch (parseError) {
    // --help and --version arrive here too, with exit code 0.
    return (parseError as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  let cluster;
  try {
    const config = loadConfig({ env, overrides: { cluster: { redisUrl: options.redisUrl, secret: options.clusterSecret } } });
    cluster = config.cluster;
  } catch (configError) {
    if (!(configError instanceof ConfigError)) throw configError;
    err.write(`remoted: ${configError.message}\n`);
    return 2;
  }
  if (cluster.redisUrl === undefined || cluster.secret === undefined) {
    err.write('remoted: import-keys needs the cluster\'s Redis: set REMOTED_REDIS_URL and REMOTED_CLUSTER_SECRET (or --redis-url and --cluster-secret)\n');
    return 2;
  }
  if (!existsSync(options.from)) {
    err.write(`remoted: --from ${options.from}: no such file; a single node keeps its keys in <data dir>/remoted.sqlite\n`);
    return 2;
  }
  let store: RedisKeyStore;
  try {
    store = await RedisKeyStore.open(cluster.redisUrl);
  } catch (openError) {
    err.write(`remoted: ${(openError as Error).message}\n`);
    return 1;
  }
  try {
    const { imported } = await importKeys(options.from, store);
    out.write(`imported ${imported} key${imported === 1 ? '' : 's'} from ${options.from} into ${redactedUrl(cluster.redisUrl)}\n`);
    return 0;
  } catch (importError) {
    if (importError instanceof ImportConflictError) {
      err.write(`remoted: nothing imported: ${importError.message}\n`);
      return 1;
    }
    throw importError;
  } finally {
    await store.close();
  }
}
