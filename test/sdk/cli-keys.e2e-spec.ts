/**
 * Where the built CLI takes its key from (sdk/src/cli/key-source.ts): the
 * environment and --key-file work with URLs that carry no key, a key file
 * others can read is refused with exit 2, and a key on the command line
 * works but warns once that `ps` shows it.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { type CliProcess as Cli, runCli, stop } from '../helpers/cli-process';
import { startEchoServer } from './sdk-helpers';

const PS_WARNING = /^remoted: warning: .*visible to every local user \(ps/gm;

describe('remoted CLI key sources', () => {
  let relay: StartedRelay;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let dir: string;
  const clis: Cli[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    echo = await startEchoServer();
    dir = mkdtempSync(join(tmpdir(), 'remoted-keys-'));
  });
  afterEach(async () => {
    for (const cli of clis.splice(0)) await stop(cli);
  });
  afterAll(async () => {
    await echo.close();
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function cli(args: string[], env?: NodeJS.ProcessEnv): Cli {
    const started = runCli(args, env);
    clis.push(started);
    return started;
  }

  function keyFile(name: string, content: string, mode: number): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    chmodSync(path, mode); // writeFileSync's mode is masked by the umask
    return path;
  }

  /** `remoted dial` with `input` on stdin: resolves with its exit code and stdout. */
  async function dialOnce(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<{ code: number | null; stdout: string; cli: Cli }> {
    const dial = cli(['dial', ...args], env);
    let stdout = '';
    dial.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    dial.child.stdin.end(input);
    return { code: await dial.exited, stdout, cli: dial };
  }

  const bare = (scheme: 'rws' | 'rwr', path: string): string => `${scheme}://127.0.0.1:${relay.port}${path}`;

  it('expose takes REMOTED_KEY, dial takes --key-file (0600, trailing newline): the link works and neither warns', async () => {
    const expose = cli(['expose', bare('rws', '/env'), '--to', `127.0.0.1:${echo.port}`], { REMOTED_KEY: relay.keys.server });
    await expose.waitForLog(/listening on rws:\/\/127\.0\.0\.1:\d+\/env/);
    const file = keyFile('client.key', `${relay.keys.client}\n`, 0o600);

    const dial = await dialOnce([bare('rwr', '/env'), '--key-file', file], {}, 'through env and file\n');
    expect(dial.code).toBe(0);
    expect(dial.stdout).toBe('through env and file\n');
    expect(dial.cli.stderr()).toBe('');
    expect(expose.stderr()).not.toMatch(PS_WARNING);
  });

  it('refuses a key file that group or others can read: exit 2, and says how to fix it', async () => {
    const file = keyFile('open.key', `${relay.keys.client}\n`, 0o644);
    const dial = await dialOnce([bare('rwr', '/env'), '--key-file', file], {}, '');
    expect(dial.code).toBe(2);
    expect(dial.cli.stderr()).toBe(`remoted: key_file_exposed: --key-file ${file} is open to group or others (mode 0644): run chmod 600 ${file}\n`);
  });

  it('a key in the URL works and warns once on stderr, naming REMOTED_KEY and --key-file', async () => {
    const expose = cli(['expose', relay.url('rws', '/inline'), '--to', `127.0.0.1:${echo.port}`]);
    await expose.waitForLog(/listening on/);
    expect(expose.stderr().match(PS_WARNING)).toHaveLength(1);
    expect(expose.stderr()).toMatch(/set REMOTED_KEY or use --key-file PATH/);

    const dial = await dialOnce([relay.url('rwr', '/inline')], {}, 'inline\n');
    expect(dial.code).toBe(0);
    expect(dial.stdout).toBe('inline\n');
    expect(dial.cli.stderr().match(PS_WARNING)).toHaveLength(1);
  });

  it('no key anywhere, or --key-file beside a key in the URL: exit 2 with one line', async () => {
    const none = await dialOnce([bare('rwr', '/env')], {}, '');
    expect(none.code).toBe(2);
    expect(none.cli.stderr()).toMatch(/^remoted: missing_key: no key: set REMOTED_KEY, pass --key-file PATH, or write it in the URL \(visible in ps\)\n$/);

    const file = keyFile('both.key', relay.keys.client, 0o600);
    const both = await dialOnce([relay.url('rwr', '/env'), '--key-file', file], {}, '');
    expect(both.code).toBe(2);
    expect(both.cli.stderr()).toMatch(/^remoted: conflicting_keys: /m);
  });

  it('admin commands: REMOTED_ADMIN_KEY and --key-file work quietly, --key warns, an open file is refused', async () => {
    const address = ['--address', `127.0.0.1:${relay.grpcPort}`];
    const fromEnv = cli(['routes', ...address], { REMOTED_ADMIN_KEY: relay.keys.admin });
    expect(await fromEnv.exited).toBe(0);
    expect(fromEnv.stderr()).toBe('');

    const fromFile = cli(['keys', 'list', ...address, '--key-file', keyFile('admin.key', `${relay.keys.admin}\n`, 0o400)]);
    expect(await fromFile.exited).toBe(0);
    expect(fromFile.stderr()).toBe('');

    const inline = cli(['links', ...address, '--key', relay.keys.admin]);
    expect(await inline.exited).toBe(0);
    expect(inline.stderr().match(PS_WARNING)).toHaveLength(1);
    expect(inline.stderr()).toMatch(/set REMOTED_ADMIN_KEY or use --key-file PATH/);

    const open = cli(['stats', ...address, '--key-file', keyFile('admin-open.key', relay.keys.admin, 0o640)]);
    expect(await open.exited).toBe(2);
    expect(open.stderr()).toMatch(/^remoted: key_file_exposed: .*\(mode 0640\)/);
  });
});
