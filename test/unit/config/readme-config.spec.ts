/** The README's configuration table is the documentation of CONFIG_FIELDS: keep them in step. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../../src/config/config';
import { CONFIG_FIELDS } from '../../../src/config/config-fields';

const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');

describe('README configuration table', () => {
  it.each(CONFIG_FIELDS.map((f) => [f.env, f]))('documents %s with its flag and default', (_, field) => {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${field.env}\``));
    expect(row).toBeDefined();
    expect(row).toContain(`\`--${field.flag}\``);
    const value = field.path.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], DEFAULT_CONFIG);
    expect(row).toContain(value === undefined ? '—' : `\`${String(value)}\``);
  });
});
