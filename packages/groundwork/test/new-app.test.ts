/**
 * `groundwork new`: a scaffolded app is a working app. It is written inside the repository (so it resolves
 * groundwork-pg, drizzle-orm and vitest as a workspace app would), then its migration is checked against
 * its schema, applied, and its own tests run, on this run's backend; the folder is deleted afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, NewAppError } from '../src/scaffold/new-app.ts';
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
  it('writes an app whose migration matches its schema, applies, and passes its own tests', async () => {
    const root = scratch();
    made.push(root);
    const dir = join(root, 'sample');
    const env = { ...process.env, DATA_DIR: join(root, 'data'), DATABASE_URL: '', NO_COLOR: '1' };
    const cli = (cwd: string, ...args: string[]) =>
      spawnSync(testNode[0], [...testNode.slice(1), BIN, ...args], { cwd, env, encoding: 'utf8' });
    const created = cli(root, 'new', 'sample', '--dir', dir, '--json');
    expect(created.status, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ ok: true, command: 'new', dir });
    expect(JSON.parse(created.stdout).files).toEqual(
      expect.arrayContaining([
        'src/app.ts',
        'src/schema.ts',
        'src/users/routes.ts',
        'src/health/routes.ts',
        'README.md',
        '.env.example',
        'test/users.test.ts',
      ]),
    );

    const again = cli(dir, 'db', 'revision', '--autogenerate', '-m', 'nothing new');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes in schema');
    const upgraded = cli(dir, 'db', 'upgrade');
    expect(upgraded.status, upgraded.stderr).toBe(0);
    expect(upgraded.stdout).toMatch(/applied 1 migration\(s\)/);

    const vitest = join(REPO, 'node_modules', 'vitest', 'vitest.mjs');
    const tests = spawnSync(process.execPath, [vitest, 'run'], { cwd: dir, env, encoding: 'utf8' });
    expect(tests.status, `${tests.stdout}\n${tests.stderr}`).toBe(0);
    expect(tests.stdout).toMatch(/Tests\s+4 passed/);
    // Four CLI processes and a whole vitest run of the new app, one after another.
  }, 120_000);

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
