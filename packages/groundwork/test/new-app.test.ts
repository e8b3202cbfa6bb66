/**
 * `groundwork new`: a copy of the template app (`template/`, itself tested in `npm test`) under a new name is
 * a working app. It is written inside the repository (so it resolves groundwork-pg, drizzle-orm and vitest
 * as a workspace app would), then its migration is checked against its schema and applied, and its own
 * tests, the repository's lint and its own type check run, on this run's backend; the folder is deleted
 * afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appFiles, createApp, NewAppError } from '../src/scaffold/new-app.ts';
import { BIN, PACKAGE_DIR } from './support/harness.ts';
import { testNode } from './support/subprocess.ts';

const REPO = join(PACKAGE_DIR, '..', '..');
const scratch = () => {
  const parent = join(REPO, '.scratch');
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, 'new-app-'));
};
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('groundwork new', () => {
  it('writes an app whose migration matches its schema, applies, and passes its tests, lint and type check', async () => {
    const root = scratch();
    made.push(root);
    const dir = join(root, 'probe');
    const env = { ...process.env, DATA_DIR: join(root, 'data'), DATABASE_URL: '', NO_COLOR: '1' };
    const cli = (cwd: string, ...args: string[]) =>
      spawnSync(testNode[0], [...testNode.slice(1), BIN, ...args], { cwd, env, encoding: 'utf8' });
    const created = cli(root, 'new', 'probe', '--dir', dir, '--json');
    expect(created.status, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ ok: true, command: 'new', dir });
    expect(JSON.parse(created.stdout).files).toEqual(
      expect.arrayContaining([
        'src/app.ts',
        'src/schema.ts',
        'src/users/routes.ts',
        'README.md',
        '.env.example',
        'test/users.test.ts',
        'test/ownership.test.ts',
        'test/migrations.test.ts',
      ]),
    );
    expect(readFileSync(join(dir, 'src', 'app.ts'), 'utf8')).toContain("name: 'probe'");

    const again = cli(dir, 'db', 'revision', '--autogenerate', '-m', 'nothing new');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes in schema');
    const upgraded = cli(dir, 'db', 'upgrade');
    expect(upgraded.status, upgraded.stderr).toBe(0);
    expect(upgraded.stdout).toMatch(/applied 1 migration\(s\)/);

    const tool = (path: string, ...args: string[]) =>
      spawnSync(process.execPath, [join(REPO, 'node_modules', ...path.split('/')), ...args], {
        cwd: dir,
        env,
        encoding: 'utf8',
      });
    const tests = tool('vitest/vitest.mjs', 'run');
    expect(tests.status, `${tests.stdout}\n${tests.stderr}`).toBe(0);
    expect(tests.stdout).toMatch(/Tests\s+\d+ passed/);
    expect(tests.stdout).not.toMatch(/failed|skipped/);
    const lint = tool('@biomejs/biome/bin/biome', 'check', '.');
    expect(lint.status, `${lint.stdout}\n${lint.stderr}`).toBe(0);
    const typecheck = tool('typescript/bin/tsc', '-p', 'tsconfig.json');
    expect(typecheck.status, typecheck.stdout).toBe(0);
    // Four CLI processes, a whole vitest run of the new app, biome and tsc, one after another.
  }, 180_000);

  it('copies every file of the template but its migrations, with its name replaced', () => {
    const files = appFiles('billing-desk');
    expect(Object.keys(files).filter((path) => path.startsWith('migrations'))).toEqual([]);
    for (const [path, text] of Object.entries(files)) {
      expect(text, path).not.toMatch(/template[-_]app/);
    }
    expect(files['.env.example']).toContain(
      'postgres://billing_desk:changeme@localhost:5432/billing_desk_dev',
    );
    expect(JSON.parse(files['package.json']!)).toMatchObject({
      name: 'billing-desk',
      scripts: { start: 'exec groundwork serve billing-desk' },
      dependencies: { 'groundwork-pg': expect.any(String), 'drizzle-orm': expect.any(String) },
    });
  });

  it('refuses a bad name or a folder that is in use, naming the fix', async () => {
    const root = scratch();
    made.push(root);
    await expect(createApp('Bad_Name', join(root, 'x'))).rejects.toThrow(
      /lowercase letters, digits and dashes/,
    );
    await createApp('taken', join(root, 'taken'));
    await expect(createApp('taken', join(root, 'taken'))).rejects.toBeInstanceOf(NewAppError);
  });
});
