/**
 * `npm ci` on a fresh machine prints nothing a newcomer would read as a
 * failure: npm 11 lists every dependency whose install script is not covered
 * by package.json's `allowScripts` (npm approve-scripts). Asked here of npm
 * itself, read-only: nothing installed is left pending. Run
 * `npm approve-scripts <pkg>` after reviewing a new one.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const REPO_ROOT = join(__dirname, '..', '..');

describe('install scripts', () => {
  it('every dependency with an install script is covered by allowScripts', async () => {
    const { stdout } = await promisify(execFile)('npm', ['approve-scripts', '--allow-scripts-pending', '--json'], { cwd: REPO_ROOT, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ allowScripts: [] });
  });

  it('better-sqlite3, whose install script builds it, loads and runs', async () => {
    const script = "const D = require('better-sqlite3'); process.stdout.write(new D(':memory:').prepare('select 1 + 1 as two').get().two.toString())";
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: REPO_ROOT, timeout: 60_000 });
    expect(stdout).toBe('2');
  });
});
