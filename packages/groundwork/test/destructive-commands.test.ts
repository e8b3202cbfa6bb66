/**
 * Issue 11.5: reset, downgrade, stamp and restore refuse a production database (NODE_ENV=production, or
 * last migrated under production as recorded in schema_migrations_metadata) unless given
 * --force --confirm <database name>; elsewhere they run without flags. The CLI runs in process (runMain)
 * on a copy of the shelf fixture with rows, on PGlite or on the server (TEST_DATABASE_URL).
 */
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appliedIds,
  copyApp,
  databaseEnv,
  dataDir,
  dropLater,
  dropScratchDatabases,
  M1,
  M2,
  ok,
  openShelf,
  query,
  runMain,
  scratchDatabase,
  serverUrl,
} from './support/harness.ts';

afterAll(dropScratchDatabases);

/** A copy of the shelf app on its own database; `run` is the CLI under the given NODE_ENV. */
async function fixture() {
  const app = copyApp();
  const where = serverUrl ? await scratchDatabase('gwt_guard') : { dataDir: await dataDir() };
  if ('drop' in where) dropLater(where.drop);
  const name = 'name' in where ? where.name : basename(where.dataDir);
  const env = databaseEnv(where);
  const run = (nodeEnv: string, ...args: string[]) =>
    runMain(args, { cwd: app, env: { ...env, NODE_ENV: nodeEnv } });
  /** Applied ids, book titles and the recorded environment (the handle closes before the CLI runs again). */
  const state = async () => {
    const handle = await openShelf(where);
    try {
      const [environment] = await query<{ value: string }>(
        handle,
        "select value from schema_migrations_metadata where key = 'environment'",
      );
      const [books] = await query<{ found: boolean }>(
        handle,
        "select to_regclass('books') is not null as found",
      );
      const titles = books?.found
        ? (await query<{ title: string }>(handle, 'select title from books order by id')).map((r) => r.title)
        : null;
      return { applied: await appliedIds(handle), titles, environment: environment?.value };
    } finally {
      await handle.close();
    }
  };
  const seed = async () => {
    const handle = await openShelf(where);
    try {
      await query(handle, "insert into books (title) values ('precious')");
    } finally {
      await handle.close();
    }
  };
  return { app, where, name, run, state, seed };
}

const COMMANDS: [string, (backup: string) => string[]][] = [
  ['reset', () => ['db', 'reset']],
  ['downgrade', () => ['db', 'downgrade', 'base']],
  ['stamp', () => ['db', 'stamp', 'base']],
  ['restore', (backup) => ['db', 'restore', backup]],
];

describe('destructive commands on a production database', () => {
  for (const [command, args] of COMMANDS) {
    it(`${command}: refused when last migrated under production, without or with a wrong --confirm; runs with --force --confirm <name>`, async () => {
      const f = await fixture();
      ok(await f.run('production', 'db', 'upgrade'));
      await f.seed();
      const backup = join(f.app, 'backup.dump');
      ok(await f.run('production', 'db', 'backup', backup));
      const before = await f.state();
      expect(before).toEqual({ applied: [M1.id, M2.id], titles: ['precious'], environment: 'production' });

      for (const extra of [[], ['--force'], ['--force', '--confirm', 'other_db']]) {
        const refused = await f.run('test', ...args(backup), ...extra);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain(
          `database "${f.name}", which is production (it was last migrated under production). Nothing was changed`,
        );
        expect(refused.stderr).toContain(`repeat the command with --force --confirm ${f.name}`);
        if (extra.length === 3) expect(refused.stderr).toContain('(--confirm "other_db" is not');
      }
      // Refusals write nothing, so whatever one of them changed would still show here.
      expect(await f.state()).toEqual(before);

      ok(await f.run('test', ...args(backup), '--force', '--confirm', f.name));
      const after = await f.state();
      const expected = {
        reset: { ...before, titles: [], environment: 'test' },
        downgrade: { applied: [], titles: null, environment: 'test' },
        stamp: { ...before, applied: [], environment: 'test' },
        restore: before,
      }[command];
      expect(after).toEqual(expected);
    }, 300_000);
  }

  it('NODE_ENV=production refuses each command on a database never marked production; outside production they run without flags', async () => {
    const f = await fixture();
    ok(await f.run('test', 'db', 'upgrade'));
    await f.seed();
    const backup = join(f.app, 'backup.dump');
    ok(await f.run('test', 'db', 'backup', backup));
    const before = await f.state();
    expect(before.environment).toBe('test');

    for (const [, args] of COMMANDS) {
      const refused = await f.run('production', ...args(backup));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`which is production (NODE_ENV is production). Nothing was changed`);
    }
    expect(await f.state()).toEqual(before);
    for (const [command, args] of COMMANDS) {
      ok(await f.run('test', ...args(backup)));
      if (command === 'stamp') ok(await f.run('test', 'db', 'stamp', 'head'));
      else if (command !== 'restore') ok(await f.run('test', 'db', 'upgrade'));
    }
    expect((await f.state()).applied).toEqual([M1.id, M2.id]);
  }, 300_000);

  it('a database migrated before the metadata table existed gains it at its next migration', async () => {
    const f = await fixture();
    ok(await f.run('production', 'db', 'upgrade', M1.id));
    const handle = await openShelf(f.where);
    try {
      await query(handle, 'drop table schema_migrations_metadata');
    } finally {
      await handle.close();
    }
    // nothing recorded: only NODE_ENV can mark it production
    ok(await f.run('test', 'db', 'stamp', M1.id));
    expect((await f.state()).environment).toBe('test');
    ok(await f.run('production', 'db', 'upgrade'));
    expect(await f.state()).toMatchObject({ applied: [M1.id, M2.id], environment: 'production' });
  }, 300_000);
});
