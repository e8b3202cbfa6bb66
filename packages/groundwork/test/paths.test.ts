import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppDefinition } from '../src/app.ts';
import { appDirs } from '../src/cli/apps.ts';
import { readMigrations } from '../src/migrations/folder.ts';
import { upgrade } from '../src/migrations/runner.ts';
import { createTestDatabase } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';

const root = join(import.meta.dirname, '..', '..', '..');
// A checkout under a folder with a space: the apps are copied there and find the workspace's packages.
const checkout = mkdtempSync(join(tmpdir(), 'gw checkout with space '));
symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
afterAll(() => rmSync(checkout, { recursive: true, force: true }));

describe('an app under a path with a space', () => {
  it.each(appDirs(root).map((dir) => basename(dir)))(
    '%s finds its folder and its migrations',
    async (name) => {
      const source = join(root, 'apps', name);
      const copy = join(checkout, 'apps', name);
      mkdirSync(copy, { recursive: true });
      for (const part of ['src', 'migrations', 'package.json'])
        cpSync(join(source, part), join(copy, part), { recursive: true });
      const definition = (
        (await import(pathToFileURL(join(copy, 'src', 'app.ts')).href)) as { default: AppDefinition<any> }
      ).default;
      expect(definition.dir).toBe(copy);
      const expected = readdirSync(join(source, 'migrations')).filter((f) => /^\d{14}_/.test(f)).length;
      expect(readMigrations(definition.migrationsDir)).toHaveLength(expected);
    },
  );
});

describe('a missing migrations folder', () => {
  it('is an error naming the folder, not "nothing to do"', async () => {
    const missing = join(checkout, 'no-such-app', 'migrations');
    expect(() => readMigrations(missing)).toThrow(`The migrations folder ${missing} does not exist`);
    const database = await createTestDatabase(notes, { migrate: false });
    try {
      await expect(upgrade(database.handle, missing, 'head')).rejects.toThrow(/does not exist/);
    } finally {
      await database.dispose();
    }
  });
});
