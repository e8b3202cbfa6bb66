/**
 * Guarantees of the migrations engine, through its exported functions, on PGlite (default) or on the server
 * named by TEST_DATABASE_URL (a scratch database per test). The CLI contract, the advisory lock across
 * processes and SIGKILL are in migrations-cli.test.ts.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { index, pgTable, serial, text, varchar } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/database/open.ts';
import { checkDatabase, checkFolder } from '../src/migrations/check.ts';
import { snapshotFromSchema, snapshotsEqual } from '../src/migrations/diff.ts';
import { latestSnapshot, readMigrations } from '../src/migrations/folder.ts';
import { readState } from '../src/migrations/plan.ts';
import { createRevision } from '../src/migrations/revision.ts';
import { downgrade, MigrationError, stamp, upgrade } from '../src/migrations/runner.ts';
import { catalogObjects, testSettings } from '../src/testing/index.ts';
import {
  addMigration,
  appliedIds,
  copyMigrations,
  databasePerFile,
  M1,
  M2,
  query,
  serverUrl,
  shelf,
  tableExists,
} from './support/harness.ts';

// ---- one database per file (a scratch database on the server, or a PGlite), emptied before each test ----

const shared = databasePerFile('gwt_runner');

/** Ids of hand-written migrations: all after the fixture's two. */
const H = (n: number, slug: string) => `2099010100000${n}_${slug}`;
const idOf = (name: string) => name.slice(0, 14);

async function column(table: string, name: string): Promise<boolean> {
  const rows = await query(
    shared.handle,
    'select 1 from information_schema.columns where table_name = $1 and column_name = $2',
    [table, name],
  );
  return rows.length === 1;
}

// ---- the schema variants the revision tests diff against the fixture's last snapshot ----

/** books.author renamed to writer (its index keeps its name). */
const renamedBooks = pgTable(
  'books',
  {
    id: serial('id').primaryKey(),
    title: text('title').notNull(),
    writer: varchar('writer', { length: 200 }),
  },
  (t) => [index('books_author_idx').on(t.writer)],
);

/** books with one more column, isbn. */
const booksWithIsbn = pgTable(
  'books',
  {
    id: serial('id').primaryKey(),
    title: text('title').notNull(),
    author: varchar('author', { length: 200 }),
    isbn: text('isbn'),
  },
  (t) => [index('books_author_idx').on(t.author)],
);

describe('transactions', () => {
  it('rolls back a failing migration with its schema_migrations row and names the file and statement', async () => {
    const dir = copyMigrations();
    const failing = addMigration(dir, H(1, 'audit'), [
      'create table shelf_audit (id integer)',
      "insert into books (title) values ('kept only if the migration commits')",
      'select 1 / 0',
    ]);

    const error = await upgrade(shared.handle, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain(`${join(failing, 'up.sql')}: statement 3 of 3 failed`);
    expect((error as Error).message).toContain('division by zero');
    expect((error as Error).message).toContain(`still at the revision before ${idOf(H(1, 'audit'))}`);

    // the two good migrations before it committed; nothing of the failing one did
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);
    expect(await tableExists(shared.handle, 'shelf_audit')).toBe(false);
    expect(await query(shared.handle, 'select * from books')).toEqual([]);
    expect((await readState(shared.handle, dir)).current).toBe(M2.id);
  });

  it('rolls back a failing down.sql too: the migration stays applied and its objects stay', async () => {
    const dir = copyMigrations();
    const migration = addMigration(
      dir,
      H(1, 'audit'),
      ['create table shelf_audit (id integer)'],
      ['drop table shelf_audit', 'select 1 / 0'],
    );
    await upgrade(shared.handle, dir);

    await expect(downgrade(shared.handle, dir, '-1')).rejects.toThrow(
      `${join(migration, 'down.sql')}: statement 2 of 2 failed`,
    );
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id, idOf(H(1, 'audit'))]);
    expect(await tableExists(shared.handle, 'shelf_audit')).toBe(true);
  });

  it('runs a no-transaction migration (CREATE INDEX CONCURRENTLY) statement by statement', async () => {
    const dir = copyMigrations();
    addMigration(dir, H(1, 'title_indexes'), [
      '-- groundwork:no-transaction\nCREATE INDEX CONCURRENTLY books_title_idx ON books (title)',
      'CREATE INDEX CONCURRENTLY books_title_lower_idx ON books (lower(title))',
    ]);
    // without the marker the same statements fail: PostgreSQL refuses CONCURRENTLY in a transaction block
    const control = copyMigrations();
    addMigration(control, H(1, 'title_indexes'), [
      'CREATE INDEX CONCURRENTLY books_title_idx ON books (title)',
    ]);
    await expect(upgrade(shared.handle, control)).rejects.toThrow(/cannot run inside a transaction block/);
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);

    const result = await upgrade(shared.handle, dir);
    expect(result.steps.map((s) => s.name)).toEqual([H(1, 'title_indexes')]);
    const indexes = await query<{ indexname: string }>(
      shared.handle,
      "select indexname from pg_indexes where tablename = 'books' and indexname like 'books_title%' order by 1",
    );
    expect(indexes.map((i) => i.indexname)).toEqual(['books_title_idx', 'books_title_lower_idx']);
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id, idOf(H(1, 'title_indexes'))]);
  });

  it('records a no-transaction migration only after its last statement succeeds', async () => {
    const dir = copyMigrations();
    const path = addMigration(dir, H(1, 'backfill'), [
      '-- groundwork:no-transaction\ncreate table nt_one (id integer)',
      'select 1 / 0',
      'create table nt_three (id integer)',
    ]);
    const error = (await upgrade(shared.handle, dir).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(`${join(path, 'up.sql')}: statement 2 of 3 failed`);
    expect(error.message).toContain('without a transaction');
    // statement 1 ran on its own and stays; the migration is not recorded
    expect(await tableExists(shared.handle, 'nt_one')).toBe(true);
    expect(await tableExists(shared.handle, 'nt_three')).toBe(false);
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);

    // fixed (idempotent) and rerun: recorded once every statement succeeded
    writeFileSync(
      join(path, 'up.sql'),
      '-- groundwork:no-transaction\ncreate table if not exists nt_one (id integer)\n--> statement-breakpoint\n' +
        'select 1\n--> statement-breakpoint\ncreate table nt_three (id integer)\n',
    );
    await upgrade(shared.handle, dir);
    expect(await tableExists(shared.handle, 'nt_three')).toBe(true);
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id, idOf(H(1, 'backfill'))]);
  });

  // On PGlite every session is the same connection and advisory locks are re-entrant per session: the
  // runner queues calls per handle so they cannot interleave their BEGIN/COMMIT.
  it('serializes two upgrade() calls on the same handle in one process', async () => {
    const dir = copyMigrations();
    addMigration(dir, H(1, 'slow'), ['create table slow_one (id integer)', 'select pg_sleep(0.3)']);
    const results = await Promise.allSettled([upgrade(shared.handle, dir), upgrade(shared.handle, dir)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const steps = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.steps : []));
    expect(steps.map((s) => s.name).sort()).toEqual([M1.name, M2.name, H(1, 'slow')]);
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id, idOf(H(1, 'slow'))]);
  });
});

describe('long migrations', () => {
  // The migration session runs without the app's DB_STATEMENT_TIMEOUT_MS: a long statement (an index on a
  // big table, a backfill) and a concurrent deploy's wait in pg_advisory_lock must not be cancelled.
  it("neither a slow statement nor the lock wait is cut by the app's statement timeout", async () => {
    const dir = copyMigrations();
    addMigration(dir, H(1, 'slow'), ['select pg_sleep(1)']);
    const settings = testSettings(shelf, { DB_STATEMENT_TIMEOUT_MS: '300' }, shared.scratch?.url);
    const open = () => openDatabase(settings, { schema: shelf.schema, pglite: shared.pglite });
    const handles = serverUrl ? [await open(), await open()] : [await open()];
    try {
      const results = await Promise.all(handles.map((h) => upgrade(h, dir)));
      expect(results.flatMap((r) => r.steps).map((s) => s.name)).toEqual([M1.name, M2.name, H(1, 'slow')]);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });
});

describe('checksums and order', () => {
  it('refuses to upgrade when an applied migration was edited, naming the file', async () => {
    const dir = copyMigrations();
    await upgrade(shared.handle, dir, M1.id);
    const file = join(dir, M1.name, 'up.sql');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n-- an innocent-looking edit\n`);

    await expect(upgrade(shared.handle, dir)).rejects.toThrow(
      `Applied migration(s) changed since they ran: ${file}`,
    );
    expect(await appliedIds(shared.handle)).toEqual([M1.id]);
    expect(await column('books', 'author')).toBe(false);
  });

  it('refuses a pending migration older than the applied head unless allowOutOfOrder', async () => {
    const dir = copyMigrations();
    addMigration(dir, H(3, 'later'), ['create table later_one (id integer)']);
    await upgrade(shared.handle, dir);
    const late = addMigration(dir, H(2, 'merged_late'), ['create table merged_late (id integer)']);

    await expect(upgrade(shared.handle, dir)).rejects.toThrow(
      `Pending migration ${late} is older than the applied head ${idOf(H(3, 'later'))}`,
    );
    expect(await tableExists(shared.handle, 'merged_late')).toBe(false);

    const result = await upgrade(shared.handle, dir, 'head', { allowOutOfOrder: true });
    expect(result.steps.map((s) => s.name)).toEqual([H(2, 'merged_late')]);
    expect(await appliedIds(shared.handle)).toEqual([
      M1.id,
      M2.id,
      idOf(H(2, 'merged_late')),
      idOf(H(3, 'later')),
    ]);
  });

  it('upgrades to a target id and no further', async () => {
    const dir = copyMigrations();
    const result = await upgrade(shared.handle, dir, M1.id);
    expect(result).toMatchObject({ from: null, to: M1.id, steps: [{ name: M1.name }] });
    expect(await column('books', 'author')).toBe(false);
    await expect(upgrade(shared.handle, dir, '20000101000000')).rejects.toThrow(
      /Unknown target "20000101000000"/,
    );
  });
});

describe('downgrade', () => {
  function fourSteps() {
    const dir = copyMigrations();
    addMigration(dir, H(1, 'shelves'), ['create table shelves (id integer)'], ['drop table shelves']);
    addMigration(dir, H(2, 'loans'), ['create table loans (id integer)'], ['drop table loans']);
    return dir;
  }

  it('reverts -1, -N, to an id (kept applied) and to base, leaving nothing behind', async () => {
    const dir = fourSteps();
    const empty = await catalogObjects(shared.handle);
    await upgrade(shared.handle, dir);

    let result = await downgrade(shared.handle, dir, '-1');
    expect(result.steps.map((s) => s.name)).toEqual([H(2, 'loans')]);
    expect(result.to).toBe(idOf(H(1, 'shelves')));
    expect(await tableExists(shared.handle, 'loans')).toBe(false);
    expect(await tableExists(shared.handle, 'shelves')).toBe(true);

    result = await downgrade(shared.handle, dir, '-2');
    expect(result.steps.map((s) => s.name)).toEqual([H(1, 'shelves'), M2.name]);
    expect(await appliedIds(shared.handle)).toEqual([M1.id]);
    expect(await column('books', 'author')).toBe(false);

    await upgrade(shared.handle, dir);
    result = await downgrade(shared.handle, dir, M2.id);
    expect(result.steps.map((s) => s.name)).toEqual([H(2, 'loans'), H(1, 'shelves')]);
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);
    expect(await column('books', 'author')).toBe(true);

    result = await downgrade(shared.handle, dir, 'base');
    expect(result.to).toBeNull();
    expect(await appliedIds(shared.handle)).toEqual([]);
    expect(await catalogObjects(shared.handle)).toEqual(empty);
  });

  it('stops before an irreversible step, naming it and its reason, with nothing reverted', async () => {
    const dir = copyMigrations();
    const irreversible = addMigration(
      dir,
      H(1, 'squash_authors'),
      ['update books set author = upper(author)'],
      '-- irreversible: the original spelling of authors is gone\n',
    );
    addMigration(dir, H(2, 'loans'), ['create table loans (id integer)'], ['drop table loans']);
    await upgrade(shared.handle, dir);

    const error = (await downgrade(shared.handle, dir, 'base').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toContain(join(irreversible, 'down.sql'));
    expect(error.message).toContain('the original spelling of authors is gone');
    expect(error.message).toContain('Nothing was reverted');
    // the reversible step above it was not reverted either
    expect(await tableExists(shared.handle, 'loans')).toBe(true);
    expect((await readState(shared.handle, dir)).current).toBe(idOf(H(2, 'loans')));

    // a path that does not cross it still works; the next step down is refused
    await downgrade(shared.handle, dir, '-1');
    expect(await tableExists(shared.handle, 'loans')).toBe(false);
    await expect(downgrade(shared.handle, dir, '-1')).rejects.toThrow('is irreversible');
    await expect(downgrade(shared.handle, dir, '-1', { sql: true })).rejects.toThrow('is irreversible');
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id, idOf(H(1, 'squash_authors'))]);
  });

  it('stops before a migration without down.sql, naming it, with nothing reverted', async () => {
    const dir = copyMigrations();
    const noDown = addMigration(dir, H(1, 'shelves'), ['create table shelves (id integer)'], null);
    addMigration(dir, H(2, 'loans'), ['create table loans (id integer)'], ['drop table loans']);
    await upgrade(shared.handle, dir);

    await expect(downgrade(shared.handle, dir, '-2')).rejects.toThrow(
      `${noDown} has no down.sql, so it cannot be reverted`,
    );
    expect(await tableExists(shared.handle, 'loans')).toBe(true);
    expect(await appliedIds(shared.handle)).toHaveLength(4);
    await expect(downgrade(shared.handle, dir, 'nonsense')).rejects.toThrow(/Unknown target "nonsense"/);
  });
});

describe('--sql (offline)', () => {
  it('upgrade returns the SQL and touches nothing, not even schema_migrations', async () => {
    const dir = copyMigrations();
    const result = await upgrade(shared.handle, dir, 'head', { sql: true });
    expect(result.sql).toContain('CREATE TABLE "books"');
    expect(result.sql).toContain('CREATE INDEX "books_author_idx"');
    expect(result.sql).toContain(
      `insert into schema_migrations (id, checksum, down_checksum, execution_ms) values ('${M2.id}'`,
    );
    expect(result.sql).toMatch(/^begin;$/m);
    expect(result.steps.map((s) => s.name)).toEqual([M1.name, M2.name]);
    expect(await tableExists(shared.handle, 'schema_migrations')).toBe(false);
    expect(await tableExists(shared.handle, 'books')).toBe(false);
  });

  it('downgrade returns the SQL and reverts nothing', async () => {
    const dir = copyMigrations();
    await upgrade(shared.handle, dir);
    const result = await downgrade(shared.handle, dir, 'base', { sql: true });
    expect(result.sql).toContain('DROP INDEX "books_author_idx"');
    expect(result.sql).toContain('DROP TABLE "books" CASCADE');
    expect(result.sql).toContain(`delete from schema_migrations where id = '${M1.id}'`);
    expect(result.sql!.indexOf(M2.name)).toBeLessThan(result.sql!.indexOf(M1.name));
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);
    expect(await column('books', 'author')).toBe(true);
  });

  it('downgrade --sql reports the revision it would leave the database at', async () => {
    const dir = copyMigrations();
    await upgrade(shared.handle, dir);
    const result = await downgrade(shared.handle, dir, '-1', { sql: true });
    expect(result).toMatchObject({ from: M2.id, to: M1.id, steps: [{ name: M2.name }] });
  });
});

describe('stamp', () => {
  it('records head, an id or base without running any SQL', async () => {
    const dir = copyMigrations();
    let result = await stamp(shared.handle, dir, 'head');
    expect(result.to).toBe(M2.id);
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);
    expect(await tableExists(shared.handle, 'books')).toBe(false);
    expect((await readState(shared.handle, dir)).pending).toEqual([]);
    expect((await upgrade(shared.handle, dir)).steps).toEqual([]);

    result = await stamp(shared.handle, dir, M1.id);
    expect(result).toMatchObject({ from: M2.id, to: M1.id });
    expect(await appliedIds(shared.handle)).toEqual([M1.id]);

    await stamp(shared.handle, dir, 'base');
    expect(await appliedIds(shared.handle)).toEqual([]);
    expect(await tableExists(shared.handle, 'books')).toBe(false);
    await expect(stamp(shared.handle, dir, 'nowhere')).rejects.toThrow(/Unknown target "nowhere"/);

    // adopting a database built by hand: stamp the first, upgrade the rest
    await query(shared.handle, 'create table books (id serial primary key, title text not null)');
    await stamp(shared.handle, dir, M1.id);
    expect((await upgrade(shared.handle, dir)).steps.map((s) => s.name)).toEqual([M2.name]);
    expect(await checkDatabase(shared.handle, dir, shared.shadow)).toEqual([]);
  });
});

describe('revision', () => {
  const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

  it('autogenerates up.sql, down.sql and snapshot.json from an empty folder, then finds no change', async () => {
    const dir = join(copyMigrations(), '..', 'fresh');
    const result = await createRevision(dir, shelf.schema, { message: 'Create books!', autogenerate: true });
    expect(result.changes).toEqual(['create table books', 'create index books_author_idx on books']);
    expect(result.dataLoss).toEqual([]);
    expect(entries(result.dir!)).toEqual(['down.sql', 'snapshot.json', 'up.sql']);
    expect(result.dir).toMatch(/\/\d{14}_create_books$/);
    const up = readFileSync(join(result.dir!, 'up.sql'), 'utf8');
    expect(up.startsWith('-- Create books!\n')).toBe(true);
    expect(readFileSync(join(result.dir!, 'down.sql'), 'utf8')).toContain('DROP TABLE "books"');

    // what it wrote applies, matches schema.ts, and reverts to nothing
    const empty = await catalogObjects(shared.handle);
    await upgrade(shared.handle, dir);
    expect(await checkDatabase(shared.handle, dir, shared.shadow)).toEqual([]);
    await downgrade(shared.handle, dir, 'base');
    expect(await catalogObjects(shared.handle)).toEqual(empty);

    const again = await createRevision(dir, shelf.schema, { message: 'nothing', autogenerate: true });
    expect(again).toEqual({ dir: undefined, changes: [], dataLoss: [], warnings: [] });
    expect(entries(dir)).toHaveLength(1);
  });

  it('warns about data loss for a dropped column', async () => {
    const dir = copyMigrations();
    const books = pgTable('books', { id: serial('id').primaryKey(), title: text('title').notNull() });
    const result = await createRevision(dir, { books }, { message: 'drop author', autogenerate: true });
    expect(result.dataLoss).toEqual(['drop column books.author']);
    const up = readFileSync(join(result.dir!, 'up.sql'), 'utf8');
    expect(up).toContain('-- WARNING: data loss: drop column books.author');
    expect(up).toContain('ALTER TABLE "books" DROP COLUMN "author"');
  });

  it('--rename books.author=writer becomes a real RENAME up and back, keeping the data', async () => {
    const dir = copyMigrations();
    const renamed = { books: renamedBooks };
    const result = await createRevision(dir, renamed, {
      message: 'rename author to writer',
      autogenerate: true,
      renames: ['books.author=writer'],
    });
    expect(result.dataLoss).toEqual([]);
    const up = readFileSync(join(result.dir!, 'up.sql'), 'utf8');
    const down = readFileSync(join(result.dir!, 'down.sql'), 'utf8');
    expect(up).toContain('ALTER TABLE "books" RENAME COLUMN "author" TO "writer"');
    expect(up).not.toMatch(/DROP COLUMN|ADD COLUMN/);
    expect(down).toContain('ALTER TABLE "books" RENAME COLUMN "writer" TO "author"');
    expect(down).not.toMatch(/DROP COLUMN|ADD COLUMN/);
    expect(await checkFolder(dir, renamed)).toEqual([]);

    await upgrade(shared.handle, dir, M2.id);
    await query(shared.handle, "insert into books (title, author) values ('Dune', 'Herbert')");
    await upgrade(shared.handle, dir);
    expect(await query(shared.handle, 'select title, writer from books')).toEqual([
      { title: 'Dune', writer: 'Herbert' },
    ]);
    expect(await checkDatabase(shared.handle, dir, shared.shadow)).toEqual([]);
    await downgrade(shared.handle, dir, '-1');
    expect(await query(shared.handle, 'select title, author from books')).toEqual([
      { title: 'Dune', author: 'Herbert' },
    ]);
  });

  it('rejects a bad or impossible --rename and writes nothing', async () => {
    const dir = copyMigrations();
    const before = entries(dir);
    const options = { message: 'x', autogenerate: true };
    await expect(
      createRevision(dir, shelf.schema, { ...options, renames: ['books.author'] }),
    ).rejects.toThrow(
      'Invalid rename "books.author": expected old_table=new_table or table.old_column=new_column',
    );
    await expect(
      createRevision(dir, shelf.schema, { ...options, renames: ['books.nope=writer'] }),
    ).rejects.toThrow('column "nope" does not exist in the previous snapshot');
    expect(entries(dir)).toEqual(before);
  });

  it('--empty writes a hand-written migration carrying the previous snapshot over', async () => {
    const dir = copyMigrations();
    const previous = latestSnapshot(readMigrations(dir));
    const result = await createRevision(dir, shelf.schema, { message: 'seed genres', autogenerate: false });
    const snapshot = JSON.parse(readFileSync(join(result.dir!, 'snapshot.json'), 'utf8'));
    expect(snapshotsEqual(snapshot, previous)).toBe(true);
    expect(snapshot.prevId).toBe(previous.id);
    expect(readFileSync(join(result.dir!, 'up.sql'), 'utf8')).toMatch(/^-- seed genres\n/);
    expect(readFileSync(join(result.dir!, 'down.sql'), 'utf8')).toContain('-- irreversible: <why>');
    // until someone writes it, check says it would apply as a silent no-op
    expect((await checkFolder(dir, shelf.schema)).map((p) => p.kind)).toEqual(['empty_migration']);
    // and the next autogenerate diffs against it: still nothing to do
    expect(
      (await createRevision(dir, shelf.schema, { message: 'n', autogenerate: true })).dir,
    ).toBeUndefined();
    expect(readMigrations(dir).at(-1)!.message).toBe('seed genres');
  });
});

describe('check', () => {
  it('passes on a database at head that matches schema.ts', async () => {
    const dir = copyMigrations();
    expect(await checkFolder(dir, shelf.schema)).toEqual([]);
    await upgrade(shared.handle, dir);
    expect(await checkDatabase(shared.handle, dir, shared.shadow)).toEqual([]);
  });

  it('reports schema.ts changes not captured in a migration', async () => {
    const dir = copyMigrations();
    const changed = { books: booksWithIsbn };
    expect(snapshotsEqual(snapshotFromSchema(changed), latestSnapshot(readMigrations(dir)))).toBe(false);
    const problems = await checkFolder(dir, changed);
    expect(problems).toEqual([
      {
        kind: 'uncaptured_schema_change',
        message: expect.stringContaining(
          'schema.ts has changes not captured in a migration: add column books.isbn',
        ),
      },
    ]);
  });

  it('reports a migration without down.sql', async () => {
    const dir = copyMigrations();
    rmSync(join(dir, M2.name, 'down.sql'));
    expect(await checkFolder(dir, shelf.schema)).toEqual([
      { kind: 'missing_down', message: expect.stringContaining(`${join(dir, M2.name)} has no down.sql`) },
    ]);
  });

  it('reports an applied migration edited since, and pending migrations', async () => {
    const dir = copyMigrations();
    await upgrade(shared.handle, dir, M1.id);
    const file = join(dir, M1.name, 'up.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"title" text', '"title" varchar(10)'));
    const problems = await checkDatabase(shared.handle, dir, shared.shadow);
    expect(problems.map((p) => p.kind)).toEqual(['edited_migration', 'pending_migrations']);
    expect(problems[0]!.message).toContain(`${file} was edited after it was applied`);
    expect(problems[1]!.message).toContain(M2.name);
  });

  it('reports live drift: a column altered by hand', async () => {
    const dir = copyMigrations();
    await upgrade(shared.handle, dir);
    await query(shared.handle, 'alter table books alter column title type varchar(50)');
    const problems = await checkDatabase(shared.handle, dir, shared.shadow);
    expect(problems).toEqual([
      {
        kind: 'drift',
        message:
          'column books.title differs: the live database has `character varying(50) not null`, the migrations give `text not null`',
      },
    ]);
  });
});
