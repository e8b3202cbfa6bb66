/**
 * Seed data (issue 31): each of the five apps' src/seed.ts fills a fresh embedded database on its first
 * start (startApp, what `npm start` runs), a second run adds nothing, and `db seed` refuses production
 * without --force, changing nothing.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { AppDefinition } from '../src/app.ts';
import { startApp } from '../src/runtime.ts';
import { runSeed } from '../src/seed/seed.ts';
import { testSettings } from '../src/testing/index.ts';
import { cli, dataDir, query, removeTempFolders } from './support/harness.ts';

vi.setConfig({ testTimeout: 120_000 });

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const APPS = join(ROOT, 'apps');

afterAll(removeTempFolders);

/** md5 of every row of every table of the app's own schema, by table. */
async function digests(handle: Parameters<typeof query>[0]): Promise<Record<string, string>> {
  const tables = await query<{ name: string }>(
    handle,
    "select tablename as name from pg_tables where schemaname = 'public' and tablename not like 'schema_migrations%' order by 1",
  );
  const result: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await query<{ md5: string | null; n: number }>(
      handle,
      `select md5(string_agg(t::text, '|' order by t::text)) as md5, count(*)::int as n from "${name}" t`,
    );
    result[name] = `${row!.n}:${row!.md5}`;
  }
  return result;
}

describe('seeds', () => {
  it.each(readdirSync(APPS).sort())(
    '%s: the first start seeds a fresh embedded database; a rerun adds nothing',
    async (name) => {
      const definition = (await import(join(APPS, name, 'src', 'app.ts'))).default as AppDefinition;
      // development, as `npm start` runs: a start under NODE_ENV=test never seeds
      const settings = testSettings(definition, {
        DATA_DIR: await dataDir(),
        MIGRATE_ON_START: 'true',
        NODE_ENV: 'development',
      });
      const app = await startApp(definition, { settings });
      try {
        const [{ n }] = (await query<{ n: number }>(app.handle, 'select count(*)::int as n from users')) as [
          { n: number },
        ];
        expect(n).toBeGreaterThan(0);
        const seeded = await digests(app.handle);
        await runSeed(app.handle, definition.dir, { environment: 'development' });
        expect(await digests(app.handle)).toEqual(seeded);
      } finally {
        await app.handle.close();
      }
    },
  );

  it('a database that is not new is not seeded on start, nor one started for tests', async () => {
    const definition = (await import(join(APPS, 'learnr', 'src', 'app.ts'))).default as AppDefinition;
    const underTest = await startApp(definition, {
      settings: testSettings(definition, { DATA_DIR: await dataDir(), MIGRATE_ON_START: 'true' }),
    });
    try {
      expect(await query(underTest.handle, 'select id from users')).toEqual([]);
    } finally {
      await underTest.handle.close();
    }
    const settings = testSettings(definition, {
      DATA_DIR: await dataDir(),
      MIGRATE_ON_START: 'true',
      NODE_ENV: 'development',
    });
    const first = await startApp(definition, { settings });
    await query(first.handle, 'delete from users');
    await first.handle.close();
    const second = await startApp(definition, { settings });
    try {
      expect(await query(second.handle, 'select id from users')).toEqual([]);
    } finally {
      await second.handle.close();
    }
  });

  it('db seed in production exits 1 and changes nothing; --force seeds', async () => {
    const env = { DATA_DIR: await dataDir() };
    const definition = (await import(join(APPS, 'learnr', 'src', 'app.ts'))).default as AppDefinition;
    expect((await cli(['db', 'upgrade', '--app', 'learnr'], { cwd: ROOT, env })).code).toBe(0);
    const refused = await cli(['db', 'seed', '--app', 'learnr'], {
      cwd: ROOT,
      env: { ...env, NODE_ENV: 'production' },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refusing to seed a production database .*--force/);
    const settings = testSettings(definition, env);
    const count = async () => {
      const app = await startApp(definition, { settings, migrate: false, verify: false });
      try {
        return (await query<{ n: number }>(app.handle, 'select count(*)::int as n from users'))[0]!.n;
      } finally {
        await app.handle.close();
      }
    };
    expect(await count()).toBe(0);
    const forced = await cli(['db', 'seed', '--app', 'learnr', '--force'], {
      cwd: ROOT,
      env: { ...env, NODE_ENV: 'production' },
    });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await count()).toBe(3);
  });
});
