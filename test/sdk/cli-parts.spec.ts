/** Pure parts of the CLI: host:port, exit codes and the one-line error. */
import { RemotedError, RemotedUrlError } from '@remoted/sdk';
import { CliError, EXIT, exitCodeFor, formatError } from '@remoted/sdk/cli/exit-codes';
import { parseHostPort } from '@remoted/sdk/cli/host-port';
import { createCliLogger } from '@remoted/sdk/cli/cli-logger';
import { createProgram } from '@remoted/sdk/cli/main';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('parseHostPort', () => {
  it('reads host:port, [v6]:port and a bare port', () => {
    expect(parseHostPort('10.0.0.1:22')).toEqual({ host: '10.0.0.1', port: 22 });
    expect(parseHostPort('[::1]:5432')).toEqual({ host: '::1', port: 5432 });
    expect(parseHostPort('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseHostPort(':0')).toEqual({ host: '127.0.0.1', port: 0 });
  });
  it('refuses junk and out-of-range ports as usage errors', () => {
    for (const bad of ['host', 'host:', 'host:70000', 'a:b']) {
      expect(() => parseHostPort(bad)).toThrow(CliError);
    }
  });
});

describe('exit codes and messages', () => {
  it('maps each kind of failure to its documented exit code', () => {
    expect(exitCodeFor(new RemotedError('invalid_missing_apikey', 'x', 403))).toBe(EXIT.auth);
    expect(exitCodeFor(new RemotedError('missing_destination', 'x', 502))).toBe(EXIT.refused);
    expect(exitCodeFor(new RemotedError('path_in_use', 'x', 409))).toBe(EXIT.refused);
    expect(exitCodeFor(new RemotedError('timeout', 'x', 504))).toBe(EXIT.timeout);
    expect(exitCodeFor(new RemotedError('destination_unreachable', 'x', 502))).toBe(EXIT.unreachable);
    expect(exitCodeFor(new RemotedError('route_closed', 'x'))).toBe(EXIT.closed);
    expect(exitCodeFor(new RemotedUrlError('x'))).toBe(EXIT.usage);
    expect(exitCodeFor(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(EXIT.network);
    expect(exitCodeFor(new TypeError('bug'))).toBe(EXIT.internal);
  });
  it('documents every exit code in sdk/README.md and in --help, and no other', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'sdk', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| exit | meaning |'));
    const documented = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    const codes = [...new Set(Object.values(EXIT))].sort((a, b) => a - b);
    expect(documented).toEqual(codes);
    let help = '';
    const program = createProgram({ log: createCliLogger(() => 'quiet'), untilSignal: () => new Promise(() => undefined) });
    program.configureOutput({ writeOut: (text) => (help += text) });
    program.outputHelp();
    const line = /^Exit codes: (.+)$/m.exec(help)?.[1] ?? '';
    expect(line.split(', ').map((entry) => Number.parseInt(entry, 10))).toEqual(codes);
  });

  it('prints remoted: <code>: <message> on one line', () => {
    expect(formatError(new RemotedError('missing_destination', 'No listener.\nTry later.', 502))).toBe(
      'remoted: missing_destination: No listener. Try later.',
    );
    expect(formatError(new TypeError('oops'))).toBe('remoted: internal_error: oops');
  });
});
