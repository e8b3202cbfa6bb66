/**
 * D6, the team workflow: two developers each generate a migration from the same parent, the branches are
 * merged, and every command notices the two heads until `revision --merge` joins them. The CLI runs in
 * process (runMain) on a copy of the shelf fixture, with rows in the table, on PGlite or the server.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { index, integer, pgTable, serial, text, varchar } from 'drizzle-orm/pg-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createRevision } from '../src/migrations/revision.ts';
import { upgrade } from '../src/migrations/runner.ts';
import {
  appliedIds,
  copyApp,
  databaseEnv,
  dataDir,
  dropLater,
  dropScratchDatabases,
  M2,
  ok,
  openShelf,
  query,
  runMain,
  scratchDatabase,
  serverUrl,
} from './support/harness.ts';

afterAll(dropScratchDatabases);

const books = (extra: Record<string, any>) =>
  pgTable(
    'books',
    {
      id: serial('id').primaryKey(),
      title: text('title').notNull(),
      author: varchar('author', { length: 200 }),
      ...extra,
    },
    (t) => [index('books_author_idx').on(t.author)],
  );

const MERGED_SCHEMA = `import { index, integer, pgTable, serial, text, varchar } from 'drizzle-orm/pg-core';

export const books = pgTable(
  'books',
  {
    id: serial('id').primaryKey(),
    title: text('title').notNull(),
    author: varchar('author', { length: 200 }),
    isbn: text('isbn'),
    pages: integer('pages'),
  },
  (t) => [index('books_author_idx').on(t.author)],
);
`;

describe('two heads (D6)', () => {
  it('upgrade, check, history and revision name both heads; revision --merge joins them and upgrade applies the other branch', async () => {
    const app = copyApp();
    const migrations = join(app, 'migrations');
    const where = serverUrl ? await scratchDatabase('gwt_team') : { dataDir: await dataDir() };
    if ('drop' in where) dropLater(where.drop);
    const env = databaseEnv(where);
    const run = (...args: string[]) => runMain(args, { cwd: app, env });
    // after the git merge, schema.ts has both developers' columns
    writeFileSync(join(app, 'src', 'schema.ts'), MERGED_SCHEMA);

    // developer A adds isbn, developer B adds pages, each from M2; B's database has B applied, with rows
    const a = await createRevision(
      migrations,
      { books: books({ isbn: text('isbn') }) },
      {
        message: 'add isbn',
        autogenerate: true,
        now: new Date('2026-11-23T00:00:00Z'),
      },
    );
    const aside = join(app, 'branch-a');
    renameSync(a.dir!, aside);
    const b = await createRevision(
      migrations,
      { books: books({ pages: integer('pages') }) },
      {
        message: 'add pages',
        autogenerate: true,
        now: new Date('2026-11-24T00:00:00Z'),
      },
    );
    // one process holds an embedded database at a time: this handle closes before the CLI runs
    const handle = await openShelf(where);
    try {
      await upgrade(handle, migrations);
      await query(handle, "insert into books (title, pages) values ('Dune', 412), ('Emma', 474)");
    } finally {
      await handle.close();
    }
    renameSync(aside, a.dir!); // the merge brings A's folder in
    const [aName = '', bName = ''] = [a.dir!, b.dir!].map((dir) => basename(dir));
    const bothHeads = `the migrations have 2 heads: ${aName} and ${bName}`;

    const refused = await run('db', 'upgrade');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error: Nothing was applied: ${bothHeads}.`);
    expect(refused.stderr).toContain('revision --merge');

    const check = await run('db', 'check');
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`FAIL multiple_heads: ${bothHeads}`);
    expect(check.stdout).not.toContain('uncaptured_schema_change');

    const history = ok(await run('db', 'history'));
    expect(history.stderr).toContain(`WARNING: ${bothHeads}`);

    const autogenerate = await run('db', 'revision', '-m', 'more', '--autogenerate');
    expect(autogenerate.code).toBe(1);
    expect(autogenerate.stderr).toContain(`Cannot write a revision on top of one branch: ${bothHeads}`);

    const merge = ok(await run('db', 'revision', '-m', 'merge isbn and pages', '--merge'));
    expect(merge.stdout).toContain(`merge ${aName} and ${bName}`);
    expect(ok(await run('db', 'history')).stderr).toBe('');

    // A is older than the applied B, but it comes from a merged branch: no --allow-out-of-order needed
    const up = ok(await run('db', 'upgrade'));
    expect(up.stdout).toContain(`applied  ${aName}`);
    expect(ok(await run('db', 'check')).stdout).toBe('OK\n');
    expect(ok(await run('db', 'revision', '-m', 'nothing', '--autogenerate')).stdout).toBe(
      'No changes in schema: nothing written.\n',
    );

    const after = await openShelf(where);
    try {
      expect(await query(after, 'select title, pages, isbn from books order by id')).toEqual([
        { title: 'Dune', pages: 412, isbn: null },
        { title: 'Emma', pages: 474, isbn: null },
      ]);
      expect((await appliedIds(after)).slice(1, 3)).toEqual([M2.id, aName.slice(0, 14)]);
    } finally {
      await after.close();
    }
  }, 300_000);
});
