import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { defineApp } from '../src/app.ts';
import { MigrationError } from '../src/migrations/runner.ts';
import { startApps } from '../src/runtime.ts';
import notes from './support/notes/src/app.ts';

const work = mkdtempSync(join(tmpdir(), 'gw-start-apps-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An app whose only migration fails. */
function brokenApp() {
  const dir = mkdtempSync(join(work, 'broken-'));
  const migration = join(dir, 'migrations', '20261201000000_fails');
  mkdirSync(migration, { recursive: true });
  writeFileSync(join(migration, 'up.sql'), 'select * from no_such_table;\n');
  return defineApp({ name: 'broken', title: 'Broken', dir, schema: {}, routes: () => {} });
}

// Real embedded databases: seconds of CPU each on a loaded machine.
describe('starting every app (all-apps serve)', { timeout: 120_000 }, () => {
  it('starts the apps together; one whose migration fails is served not ready and reported, the rest ready', async () => {
    const env = { DATA_ROOT: mkdtempSync(join(work, 'data-')), NODE_ENV: 'test' };
    const onMigrationFailed = vi.fn();
    const apps = await startApps([notes, brokenApp()], { env, migrate: true, onMigrationFailed });
    try {
      expect(apps.map((app) => app.definition.name)).toEqual(['notes', 'broken']);
      expect((await apps[0]!.context.readiness()).status).toBe('ok');
      expect(await apps[1]!.context.readiness()).toMatchObject({
        status: 'unavailable',
        database: 'connected',
        reason: 'pending_migrations',
      });
      expect(onMigrationFailed).toHaveBeenCalledExactlyOnceWith('broken', expect.any(MigrationError));
      // What the next test reads to see that a database was closed.
      expect(existsSync(join(env.DATA_ROOT, 'notes', 'postmaster.pid'))).toBe(true);
    } finally {
      await Promise.all(apps.map((app) => app.handle.close()));
    }
  });

  it('on any other failure closes the apps already started and throws it', async () => {
    const env = { DATA_ROOT: mkdtempSync(join(work, 'data-')), NODE_ENV: 'test' };
    const refusing = defineApp({
      name: 'refusing',
      title: 'Refusing',
      dir: notes.dir,
      schema: {},
      routes: () => {},
      verify: () => {
        throw new Error('refused to start');
      },
    });
    await expect(
      startApps([notes, refusing], { env, migrate: true, onMigrationFailed: () => {} }),
    ).rejects.toThrow('refused to start');
    // PGlite keeps postmaster.pid while an instance has the folder open.
    expect(existsSync(join(env.DATA_ROOT, 'notes', 'postmaster.pid'))).toBe(false);
  });
});
