import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliReference, dbCommands, helpText } from '../src/cli/cli.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('docs match the code', () => {
  it('documents every db command in docs/migrations.md and the help text', () => {
    const guide = read('docs/migrations.md') + read('README.md');
    for (const command of dbCommands) {
      expect(guide, `docs lack "${command.name}"`).toContain(command.name);
      expect(helpText()).toContain(`groundwork db ${command.usage}`);
    }
  });

  it('keeps docs/cli.md equal to the --help of every command (npm run docs:cli regenerates it)', () => {
    expect(read('docs/cli.md')).toBe(cliReference());
  });

  it('lists every settings variable in the README', () => {
    const config = readFileSync(join(import.meta.dirname, '..', 'src', 'config.ts'), 'utf8');
    const variables = [...config.matchAll(/^\s{4}([A-Z_]+): /gm)].map((m) => m[1]!);
    expect(variables.length).toBeGreaterThan(10);
    const readme = read('README.md');
    for (const variable of variables) expect(readme, `README lacks ${variable}`).toContain(`\`${variable}\``);
  });

  it('shows in the README exactly the root package.json scripts it names', () => {
    const scripts = Object.keys(JSON.parse(read('package.json')).scripts as Record<string, string>);
    const readme = read('README.md');
    for (const script of scripts) {
      const shown = script === 'start' || script === 'test' ? `npm ${script}` : `npm run ${script}`;
      expect(readme, `README lacks ${shown}`).toContain(shown);
    }
  });
});
