/**
 * The safe forms autogenerate writes for a live database (issue 26), each applied and reverted with rows in the
 * tables, on PGlite (default) or on the server named by TEST_DATABASE_URL, and each checked against a database
 * built fresh from the same migrations (`check`).
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  serial,
  text,
  varchar,
} from 'drizzle-orm/pg-core';
import { describe, expect, it, vi } from 'vitest';
import { checkDatabase, checkFolder } from '../src/migrations/check.ts';
import { readMigrations } from '../src/migrations/folder.ts';
import { createRevision } from '../src/migrations/revision.ts';
import { downgrade, upgrade } from '../src/migrations/runner.ts';
import { copyMigrations, databasePerFile, query, revise } from './support/harness.ts';

// Each check builds and migrates a shadow database: seconds on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const shared = databasePerFile('gwt_forms');

const emptyFolder = () => join(copyMigrations(), '..', 'forms');

const drift = (dir: string) => checkDatabase(shared.handle, dir, shared.shadow);
const rows = async (sqlText: string) => query(shared.handle, sqlText);
const count = async (table: string) =>
  Number((await query<{ n: number }>(shared.handle, `select count(*)::int as n from ${table}`))[0]!.n);
const isNullable = async (table: string, column: string) =>
  (
    await query<{ nullable: string }>(
      shared.handle,
      `select is_nullable as nullable from information_schema.columns where table_name = '${table}' and column_name = '${column}'`,
    )
  )[0]!.nullable === 'YES';
const constraintNames = async (table: string) =>
  (
    await query<{ conname: string }>(
      shared.handle,
      `select conname from pg_constraint where conrelid = '${table}'::regclass and contype <> 'n' order by conname`,
    )
  ).map((row) => row.conname);

const users = pgTable('users', { id: serial('id').primaryKey(), name: text('name') });
const posts = pgTable('posts', {
  id: serial('id').primaryKey(),
  userId: integer('user_id'),
  title: text('title'),
  code: text('code'),
  score: integer('score'),
});

/** users and posts, both with rows (posts 1..500 by users 1..10; titles set, codes unique). */
async function populated(dir: string) {
  await revise(dir, { users, posts }, 'create users and posts');
  await upgrade(shared.handle, dir);
  await rows(`insert into users (name) select 'user ' || g from generate_series(1, 10) g`);
  await rows(
    `insert into posts (user_id, title, code, score) select 1 + g % 10, 'title ' || g, 'c' || g, g from generate_series(1, 500) g`,
  );
}

describe('indexes', () => {
  const indexedPosts = pgTable(
    'posts',
    {
      id: serial('id').primaryKey(),
      userId: integer('user_id'),
      title: text('title'),
      code: text('code'),
      score: integer('score'),
    },
    (t) => [index('posts_title_idx').on(t.title)],
  );
  const tags = pgTable('tags', { id: serial('id').primaryKey(), label: text('label') }, (t) => [
    index('tags_label_idx').on(t.label),
  ]);

  it('on an existing table: CONCURRENTLY in an online migration; on a new table: in the transaction; both reverse', async () => {
    const dir = emptyFolder();
    await populated(dir);
    const result = await revise(dir, { users, posts: indexedPosts, tags }, 'index titles, add tags');
    const [main, online] = result.written;
    expect(result.written).toHaveLength(2);
    expect(main!.up).toContain('CREATE INDEX "tags_label_idx" ON "tags"');
    expect(main!.up).not.toContain('posts_title_idx');
    expect(online!.dir).toMatch(/_online$/);
    expect(online!.up).toContain(
      '-- groundwork:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "posts_title_idx" ON "posts" USING btree ("title");',
    );
    expect(online!.down).toContain('DROP INDEX CONCURRENTLY IF EXISTS "posts_title_idx";');
    expect(result.allowed).toEqual([]);

    await upgrade(shared.handle, dir);
    expect(await drift(dir)).toEqual([]);
    expect(await checkFolder(dir, { users, posts: indexedPosts, tags })).toEqual([]);
    // the down runs: the index goes before the table's own migration is reverted
    await downgrade(shared.handle, dir, '-2');
    expect(await rows("select 1 from pg_class where relname in ('posts_title_idx', 'tags')")).toEqual([]);
    expect(await count('posts')).toBe(500);
    await upgrade(shared.handle, dir);
    expect(await drift(dir)).toEqual([]);
  });
});

describe('foreign keys and CHECKs', () => {
  const checkedPosts = pgTable(
    'posts',
    {
      id: serial('id').primaryKey(),
      userId: integer('user_id').references(() => users.id),
      title: text('title'),
      code: text('code'),
      score: integer('score'),
    },
    (t) => [check('posts_score_positive', sql`${t.score} > 0`)],
  );

  it('are added NOT VALID and validated in a later statement; a bad row fails the step, which reruns after the fix', async () => {
    const dir = emptyFolder();
    await populated(dir);
    await rows('insert into posts (user_id, title, score) values (99, null, 1)');
    const result = await revise(dir, { users, posts: checkedPosts }, 'posts reference users');
    expect(result.written).toHaveLength(1);
    const [online] = result.written;
    expect(online!.up).toContain(
      'ALTER TABLE "posts" DROP CONSTRAINT IF EXISTS "posts_user_id_users_id_fk", ADD CONSTRAINT "posts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action NOT VALID;',
    );
    expect(online!.up).toContain('ALTER TABLE "posts" VALIDATE CONSTRAINT "posts_user_id_users_id_fk";');
    expect(online!.up).toContain(
      'ADD CONSTRAINT "posts_score_positive" CHECK ("posts"."score" > 0) NOT VALID;',
    );

    // the orphan fails the validation: the step is not recorded, and the app's writes were never blocked
    await expect(upgrade(shared.handle, dir)).rejects.toThrow(
      /violates foreign key constraint "posts_user_id_users_id_fk"/,
    );
    expect(readMigrations(dir).at(-1)!.up.noTransaction).toBe(true);
    await rows('delete from posts where user_id = 99');
    await upgrade(shared.handle, dir);
    expect(await constraintNames('posts')).toEqual([
      'posts_pkey',
      'posts_score_positive',
      'posts_user_id_users_id_fk',
    ]);
    expect(await drift(dir)).toEqual([]);
    await downgrade(shared.handle, dir, '-1');
    expect(await constraintNames('posts')).toEqual(['posts_pkey']);
    expect(await count('posts')).toBe(500);
  });
});

describe('SET NOT NULL', () => {
  const requiredTitle = pgTable('posts', {
    id: serial('id').primaryKey(),
    userId: integer('user_id'),
    title: text('title').notNull(),
    code: text('code'),
    score: integer('score'),
  });

  it('goes through a validated CHECK (no scan under the exclusive lock), fails cleanly on a NULL, and reverses', async () => {
    const dir = emptyFolder();
    await populated(dir);
    await rows('update posts set title = null where id = 7');
    const result = await revise(dir, { users, posts: requiredTitle }, 'titles required');
    const [online] = result.written;
    const check = 'groundwork_not_null_title';
    expect(online!.up).toContain(
      `ALTER TABLE "posts" DROP CONSTRAINT IF EXISTS "${check}", ADD CONSTRAINT "${check}" CHECK ("title" IS NOT NULL) NOT VALID;\n` +
        '--> statement-breakpoint\n' +
        `ALTER TABLE "posts" VALIDATE CONSTRAINT "${check}";\n` +
        '--> statement-breakpoint\n' +
        'ALTER TABLE "posts" ALTER COLUMN "title" SET NOT NULL;\n' +
        '--> statement-breakpoint\n' +
        `ALTER TABLE "posts" DROP CONSTRAINT IF EXISTS "${check}";`,
    );
    await expect(upgrade(shared.handle, dir)).rejects.toThrow(/violated by some row/);
    expect(await isNullable('posts', 'title')).toBe(true);
    await rows("update posts set title = 'fixed' where id = 7");
    await upgrade(shared.handle, dir);
    expect(await isNullable('posts', 'title')).toBe(false);
    expect(await constraintNames('posts')).toEqual(['posts_pkey']);
    expect(await drift(dir)).toEqual([]);
    await downgrade(shared.handle, dir, '-1');
    expect(await isNullable('posts', 'title')).toBe(true);
  });
});

describe('UNIQUE and PRIMARY KEY', () => {
  const uniqueCodes = pgTable('posts', {
    id: serial('id').primaryKey(),
    userId: integer('user_id'),
    title: text('title'),
    code: text('code').unique(),
    score: integer('score'),
  });
  const plain = pgTable('pairs', {
    a: integer('a').notNull(),
    b: integer('b').notNull(),
    note: text('note'),
  });
  const keyed = pgTable(
    'pairs',
    { a: integer('a').notNull(), b: integer('b').notNull(), note: text('note') },
    (t) => [primaryKey({ columns: [t.a, t.b] })],
  );

  it('come from a unique index built concurrently, then ADD CONSTRAINT ... USING INDEX; both reverse', async () => {
    const dir = emptyFolder();
    await populated(dir);
    await revise(dir, { users, posts, pairs: plain }, 'pairs');
    await upgrade(shared.handle, dir);
    await rows('insert into pairs (a, b) select g, g % 7 from generate_series(1, 300) g');

    const result = await revise(dir, { users, posts: uniqueCodes, pairs: keyed }, 'keys');
    const [online] = result.written;
    expect(online!.up).toContain(
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "posts_code_unique" ON "posts" USING btree ("code");',
    );
    expect(online!.up).toContain(
      `THEN ALTER TABLE "posts" ADD CONSTRAINT "posts_code_unique" UNIQUE USING INDEX "posts_code_unique"; END IF; END $$;`,
    );
    expect(online!.up).toContain(
      `THEN ALTER TABLE "pairs" ADD CONSTRAINT "pairs_a_b_pk" PRIMARY KEY USING INDEX "pairs_a_b_pk"; END IF; END $$;`,
    );
    await upgrade(shared.handle, dir);
    expect(await constraintNames('posts')).toEqual(['posts_code_unique', 'posts_pkey']);
    expect(await constraintNames('pairs')).toEqual(['pairs_a_b_pk']);
    await expect(rows("insert into posts (code) values ('c1')")).rejects.toThrow(/posts_code_unique/);
    expect(await drift(dir)).toEqual([]);
    await downgrade(shared.handle, dir, '-1');
    expect(await constraintNames('posts')).toEqual(['posts_pkey']);
    expect(await constraintNames('pairs')).toEqual([]);
    expect(
      await rows("select 1 from pg_class where relname in ('posts_code_unique', 'pairs_a_b_pk')"),
    ).toEqual([]);
  });

  it('on duplicates the step fails, leaves no index behind, and reruns once the rows are fixed', async () => {
    const dir = emptyFolder();
    await populated(dir);
    await rows("update posts set code = 'c1' where id = 2");
    await revise(dir, { users, posts: uniqueCodes }, 'codes unique');
    await expect(upgrade(shared.handle, dir)).rejects.toThrow(
      /could not create unique index "posts_code_unique"/,
    );
    expect(await constraintNames('posts')).toEqual(['posts_pkey']);
    // the runner dropped the INVALID index the failed build left, so the rerun builds it for real
    expect(await rows("select 1 from pg_class where relname = 'posts_code_unique'")).toEqual([]);
    await rows("update posts set code = 'c2-fixed' where id = 2");
    await upgrade(shared.handle, dir);
    expect(await constraintNames('posts')).toEqual(['posts_code_unique', 'posts_pkey']);
    expect(await drift(dir)).toEqual([]);
  });
});

describe('enum values', () => {
  const moods = ['sad', 'ok', 'happy'] as const;
  const moodWith = (values: readonly [string, ...string[]]) => pgEnum('mood', values);
  const notesOf = (mood: ReturnType<typeof moodWith>) =>
    pgTable('notes', {
      id: serial('id').primaryKey(),
      mood: mood('mood'),
      body: varchar('body', { length: 50 }),
    });
  const schemaOf = (values: readonly [string, ...string[]]) => {
    const mood = moodWith(values);
    return { mood, notes: notesOf(mood) };
  };
  /** A view and a materialized view (with an index and a comment) on the enum column, written by hand. */
  async function withViews(dir: string) {
    const result = await createRevision(dir, {}, { message: 'mood views', autogenerate: false });
    writeFileSync(
      join(result.dir!, 'up.sql'),
      '-- mood views\nCREATE VIEW note_moods AS SELECT id, mood FROM notes;\n--> statement-breakpoint\n' +
        'CREATE MATERIALIZED VIEW mood_counts AS SELECT mood, count(*) AS n FROM notes GROUP BY mood;\n--> statement-breakpoint\n' +
        'CREATE UNIQUE INDEX mood_counts_mood ON mood_counts (mood);\n--> statement-breakpoint\n' +
        "COMMENT ON VIEW note_moods IS 'one row a note';\n",
    );
    writeFileSync(
      join(result.dir!, 'down.sql'),
      'DROP MATERIALIZED VIEW mood_counts;\n--> statement-breakpoint\nDROP VIEW note_moods;\n',
    );
  }
  /** notes with the three moods, the views on it, at head. */
  async function notesWithViews(): Promise<string> {
    const dir = emptyFolder();
    await revise(dir, schemaOf(moods), 'notes');
    await withViews(dir);
    await upgrade(shared.handle, dir);
    return dir;
  }
  const viewState = async () => ({
    view: await rows('select mood::text from note_moods order by id'),
    counts: await rows('select mood::text, n::int from mood_counts order by mood'),
    comment: await rows("select obj_description('note_moods'::regclass, 'pg_class') as comment"),
    index: await rows("select indexname from pg_indexes where tablename = 'mood_counts'"),
  });

  it('a value renamed with --rename enum:type.old=new is RENAME VALUE: rows and views keep it, and it reverses', async () => {
    const dir = await notesWithViews();
    await rows("insert into notes (mood) values ('sad'), ('ok'), ('sad')");
    const renamed = await revise(dir, schemaOf(['unhappy', 'ok', 'happy']), 'sad is unhappy', {
      renames: ['enum:mood.sad=unhappy'],
      allow: { 'renaming-enum-value': 'no release writes sad yet' },
    });
    expect(renamed.written).toHaveLength(1);
    expect(renamed.written[0]!.up).toContain(`ALTER TYPE "public"."mood" RENAME VALUE 'sad' TO 'unhappy';`);
    expect(renamed.written[0]!.up).not.toMatch(/DROP TYPE|SET DATA TYPE/);
    expect(renamed.written[0]!.down).toContain(`ALTER TYPE "public"."mood" RENAME VALUE 'unhappy' TO 'sad';`);
    await upgrade(shared.handle, dir);
    expect(await rows('select mood::text from notes order by id')).toEqual([
      { mood: 'unhappy' },
      { mood: 'ok' },
      { mood: 'unhappy' },
    ]);
    expect(await rows('select mood::text from note_moods order by id')).toHaveLength(3);
    expect(await drift(dir)).toEqual([]);
    await downgrade(shared.handle, dir, '-1');
    expect(await rows("select count(*)::int as n from notes where mood = 'sad'")).toEqual([{ n: 2 }]);
  });

  it('a value removed rebuilds the type keeping the views on it, and the down of an added value does too', async () => {
    const dir = await notesWithViews();
    await rows("insert into notes (mood) values ('sad'), ('happy'), (null)");
    await rows('refresh materialized view mood_counts');
    const before = await viewState();

    // removing "ok" (no row has it): a rebuild, which rewrites the table, so it must be allowed
    const removed = await revise(dir, schemaOf(['sad', 'happy']), 'no more ok', {
      allow: { 'changing-column-type': 'notes has few rows' },
    });
    expect(removed.written[0]!.up).toContain('CREATE TEMP TABLE IF NOT EXISTS groundwork_saved_views');
    await upgrade(shared.handle, dir);
    expect(await viewState()).toEqual(before);
    expect(await drift(dir)).toEqual([]);

    // its down adds the value back (no rebuild); re-adding it is an enum add whose down is a rebuild
    await downgrade(shared.handle, dir, '-1');
    await upgrade(shared.handle, dir);
    const added = await revise(dir, schemaOf(['sad', 'happy', 'meh']), 'meh');
    expect(added.written[0]!.up).toContain(`ALTER TYPE "public"."mood" ADD VALUE 'meh';`);
    await upgrade(shared.handle, dir);
    await downgrade(shared.handle, dir, '-1');
    expect(await viewState()).toEqual(before);
    expect(await rows('select enum_range(null::mood)::text as labels')).toEqual([{ labels: '{sad,happy}' }]);
  });

  it('a removed value still used by a row fails the rebuild and changes nothing', async () => {
    const dir = await notesWithViews();
    await rows("insert into notes (mood) values ('ok')");
    await revise(dir, schemaOf(['sad', 'happy']), 'no more ok', {
      allow: { 'changing-column-type': 'notes has few rows' },
    });
    await expect(upgrade(shared.handle, dir)).rejects.toThrow(/invalid input value for enum mood: "ok"/);
    expect(await rows('select mood::text from note_moods')).toEqual([{ mood: 'ok' }]);
  });
});

describe('table rename', () => {
  const people = pgTable('people', { id: serial('id').primaryKey(), name: text('name').notNull() });
  const accounts = pgTable('accounts', { id: serial('id').primaryKey(), name: text('name').notNull() });

  it('renames the primary key, its index, the serial sequence and NOT NULL names: fresh equals upgraded', async () => {
    const dir = emptyFolder();
    await revise(dir, { people }, 'people');
    await upgrade(shared.handle, dir);
    await rows("insert into people (name) values ('ada'), ('grace')");
    const renamed = await revise(dir, { accounts }, 'people are accounts', {
      renames: ['people=accounts'],
      allow: { 'renaming-table': 'no release reads people yet' },
    });
    expect(renamed.written[0]!.up).toContain(
      'ALTER INDEX IF EXISTS "people_pkey" RENAME TO "accounts_pkey";',
    );
    expect(renamed.written[0]!.up).toContain(
      'ALTER SEQUENCE IF EXISTS "people_id_seq" RENAME TO "accounts_id_seq";',
    );
    await upgrade(shared.handle, dir);
    expect(await drift(dir)).toEqual([]);
    const [row] = await query<{ id: number }>(
      shared.handle,
      "insert into accounts (name) values ('linus') returning id",
    );
    expect(row!.id).toBe(3);
    await downgrade(shared.handle, dir, '-1');
    expect(await constraintNames('people')).toEqual(['people_pkey']);
    expect(await rows("select pg_get_serial_sequence('people', 'id') as seq")).toEqual([
      { seq: 'public.people_id_seq' },
    ]);
  });
});

describe('expand/contract', () => {
  const orders = (amount: ReturnType<typeof integer> | ReturnType<typeof bigint>) =>
    pgTable('orders', { id: serial('id').primaryKey(), amount, note: text('note') }, (t) => [
      index('orders_amount_idx').on(t.amount),
    ]);
  const before = { orders: orders(integer('amount').notNull().default(0)) };
  const after = { orders: orders(bigint('amount', { mode: 'number' }).notNull().default(0)) };
  const sum = async () =>
    (await query<{ total: string }>(shared.handle, 'select sum(amount)::text as total from orders'))[0]!
      .total;
  const columnType = async () =>
    (
      await query<{ type: string; nullable: string; fallback: string }>(
        shared.handle,
        `select data_type as type, is_nullable as nullable, column_default as fallback from information_schema.columns
          where table_name = 'orders' and column_name = 'amount'`,
      )
    )[0];

  it('writes integer -> bigint as expand, backfill, switch and contract; rows, default and index survive both ways', async () => {
    const dir = emptyFolder();
    await revise(dir, before, 'orders');
    await upgrade(shared.handle, dir);
    await query(shared.handle, 'insert into orders (amount) select g from generate_series(1, 3000) g');
    const total = await sum();
    await expect(revise(dir, after, 'bigint amounts')).rejects.toThrow(/changing-column-type/);

    const result = await revise(dir, after, 'bigint amounts', { expandContract: 'orders.amount' });
    expect(result.written.map((w) => w.dir.replace(/^.*\/\d{14}_/, ''))).toEqual([
      'bigint_amounts_expand',
      'bigint_amounts_backfill',
      'bigint_amounts_switch',
      'bigint_amounts_contract',
    ]);
    const [expand, backfill, swap, contract] = result.written;
    expect(backfill!.up).toMatch(/^-- .*\n-- groundwork:no-transaction\nDO \$\$/);
    expect(swap!.up).toContain('-- groundwork:allow renaming-column expand/contract switch:');
    expect(contract!.up).toContain('-- groundwork:allow ban-drop-column expand/contract:');
    expect(result.allowed.map((f) => f.rule).sort()).toEqual([
      'ban-drop-column',
      'renaming-column',
      'renaming-column',
    ]);

    // after the expand, every write is copied into the new column by the trigger
    await upgrade(shared.handle, dir, basename(expand!.dir).slice(0, 14));
    await query(shared.handle, 'insert into orders (amount) values (7)');
    expect(
      await query(
        shared.handle,
        'select amount_new::int as amount_new from orders where amount = 7 and id > 3000',
      ),
    ).toEqual([{ amount_new: 7 }]);
    await query(shared.handle, 'delete from orders where id > 3000');

    await upgrade(shared.handle, dir);
    expect(await columnType()).toEqual({ type: 'bigint', nullable: 'NO', fallback: '0' });
    expect(await sum()).toBe(total);
    expect(
      await query(
        shared.handle,
        "select indexdef from pg_indexes where tablename = 'orders' and indexname = 'orders_amount_idx'",
      ),
    ).toEqual([{ indexdef: expect.stringContaining('(amount)') }]);
    expect(await query(shared.handle, "select 1 from pg_proc where proname like 'groundwork_sync%'")).toEqual(
      [],
    );
    expect(await drift(dir)).toEqual([]);
    expect(await checkFolder(dir, after)).toEqual([]);
    await query(shared.handle, 'insert into orders (amount) values (5000000000)');
    await query(shared.handle, 'delete from orders where amount = 5000000000');

    await downgrade(shared.handle, dir, '-4');
    expect(await columnType()).toEqual({ type: 'integer', nullable: 'NO', fallback: '0' });
    expect(await sum()).toBe(total);
    await upgrade(shared.handle, dir);
    expect(await drift(dir)).toEqual([]);
  });

  it('is refused, naming why, for a column in a key', async () => {
    const dir = emptyFolder();
    const keyed = (amount: ReturnType<typeof integer> | ReturnType<typeof bigint>) => ({
      orders: pgTable('orders', { id: serial('id').primaryKey(), amount: amount.unique() }),
    });
    await revise(dir, keyed(integer('amount')), 'orders');
    await expect(
      revise(dir, keyed(bigint('amount', { mode: 'number' })), 'bigint', { expandContract: 'orders.amount' }),
    ).rejects.toThrow('--expand-contract orders.amount: not offered: it is part of a key.');
  });
});
