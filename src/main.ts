/** Bootstrap only: config, the app, its port, the keys of a first start, shutdown on signals. */
import 'reflect-metadata';
import { IMPORT_KEYS_COMMAND, runImportKeys } from './cluster/import-keys-command';
import { ControlService } from './control/control.service';
import { createRelayApp } from './create-relay-app';
import { KeysService } from './keys/keys.service';
import { describeGeneratedKeys } from './keys/bootstrap-keys';
import { ConfigError, loadConfig } from './config/load-config';
import { createLogger } from './logging/create-logger';
import { handleProcessSignals } from './relay/process-signals';

async function main(): Promise<void> {
  // A subcommand of the relay's own binary, so that it reads the same settings (REMOTED_REDIS_URL, REMOTED_CLUSTER_SECRET).
  if (process.argv[2] === IMPORT_KEYS_COMMAND) process.exit(await runImportKeys(process.argv.slice(3), process.env));
  let config;
  try {
    config = loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`remoted: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const { app, port, statusPort } = await createRelayApp(config, logger);
  handleProcessSignals(app, logger);
  logger.info({ host: config.host, port, dataDir: config.dataDir }, 'relay listening');
  const generated = app.get(KeysService).takeGeneratedKeys();
  const control = app.get(ControlService);
  const relay = { host: config.host, port, tls: config.tls.certFile !== undefined };
  const grpc = { host: config.grpc.host, port: control.port, tls: control.tls };
  const status = statusPort === undefined ? undefined : { host: config.status.host, port: statusPort };
  if (generated.length > 0) process.stdout.write(describeGeneratedKeys(generated, { relay, grpc, status }));
}

main().catch((err: unknown) => {
  // Settings checked against the machine (files, CIDRs) before the app is built.
  if (err instanceof ConfigError) {
    process.stderr.write(`remoted: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`remoted: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
