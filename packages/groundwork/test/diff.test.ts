import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import {
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import {
  diffSnapshots,
  emptySnapshot,
  parseRename,
  type Rename,
  reverseRename,
  type Snapshot,
  snapshotFromSchema,
  snapshotsEqual,
} from '../src/migrations/diff.ts';

/** users + posts; the options name the database objects so versions can differ in one respect each. */
function blog(
  options: {
    emailColumn?: string;
    extraColumn?: string;
    postsTable?: string;
    postsPrefix?: string;
    titleColumn?: string;
  } = {},
): Snapshot {
  const {
    emailColumn = 'email',
    extraColumn = 'profile',
    postsTable = 'posts',
    titleColumn = 'title',
  } = options;
  const prefix = options.postsPrefix ?? postsTable;
  const users = pgTable(
    'users',
    {
      id: uuid('id').primaryKey().defaultRandom(),
      email: varchar(emailColumn, { length: 255 }).notNull(),
      extra: jsonb(extraColumn),
    },
    (t) => [
      uniqueIndex('users_email_idx').on(t.email),
      check('users_email_not_empty', sql`${t.email} <> ''`),
    ],
  );
  const posts = pgTable(
    postsTable,
    {
      id: uuid('id').primaryKey().defaultRandom(),
      authorId: uuid('author_id').notNull(),
      title: varchar(titleColumn, { length: 200 }).notNull(),
    },
    (t) => [
      index(`${prefix}_author_idx`).on(t.authorId),
      foreignKey({ columns: [t.authorId], foreignColumns: [users.id], name: `${prefix}_author_fk` }).onDelete(
        'cascade',
      ),
    ],
  );
  return snapshotFromSchema({ users, posts });
}

const CREATE_USERS =
  'CREATE TABLE "users" (\n' +
  '\t"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,\n' +
  '\t"email" varchar(255) NOT NULL,\n' +
  '\t"profile" jsonb,\n' +
  '\tCONSTRAINT "users_email_not_empty" CHECK ("users"."email" <> \'\')\n' +
  ');';
const createPosts = (table: string) =>
  `CREATE TABLE "${table}" (\n` +
  '\t"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,\n' +
  '\t"author_id" uuid NOT NULL,\n' +
  '\t"title" varchar(200) NOT NULL\n' +
  ');';
const addPostsFk = (table: string) =>
  `ALTER TABLE "${table}" ADD CONSTRAINT "${table}_author_fk" FOREIGN KEY ("author_id") ` +
  'REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;';

/** A kept table whose foreign key points at a table that goes away. */
function catalog(withKinds: boolean): Snapshot {
  const kinds = pgTable('kinds', { id: uuid('id').primaryKey() });
  const kindId = uuid('kind_id');
  const items = pgTable('items', {
    id: uuid('id').primaryKey(),
    kindId: withKinds ? kindId.references(() => kinds.id, { onDelete: 'cascade' }) : kindId,
  });
  return snapshotFromSchema(withKinds ? { kinds, items } : { items });
}

/** A column moving from one enum to another, and another column changing type. */
function notes(version: 1 | 2): Snapshot {
  const mood = pgEnum('mood', ['sad', 'happy']);
  const feeling = pgEnum('feeling', ['meh']);
  const table =
    version === 1
      ? pgTable('notes', { id: uuid('id').primaryKey(), mood: mood('mood'), body: varchar('body') })
      : pgTable('notes', { id: uuid('id').primaryKey(), mood: feeling('mood'), body: text('body') });
  return snapshotFromSchema(version === 1 ? { mood, table } : { feeling, table });
}

/** The primary key moving from one column to another (drizzle-kit cannot name the one to drop). */
function keyed(version: 1 | 2): Snapshot {
  const table =
    version === 1
      ? pgTable('pairs', { a: integer('a').primaryKey(), b: integer('b').notNull() })
      : pgTable('pairs', { a: integer('a').notNull(), b: integer('b').primaryKey() });
  return snapshotFromSchema({ table });
}

/** Default (derived) names everywhere: FK, unique, index, identity sequence; a check naming the table. */
function members(version: 1 | 2): Snapshot {
  const [usersTable, nameColumn] = version === 1 ? ['users', 'name'] : ['people', 'full_name'];
  const users = pgTable(
    usersTable,
    {
      id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
      name: varchar(nameColumn, { length: 100 }).unique(),
    },
    (t) => [index().on(t.name), check('name_not_empty', sql`${t.name} <> ''`)],
  );
  const posts = pgTable('posts', {
    id: uuid('id').primaryKey(),
    userId: integer('user_id').references(() => users.id, { onDelete: 'cascade' }),
  });
  return snapshotFromSchema({ users, posts });
}
const MEMBER_RENAMES = [parseRename('users=people'), parseRename('users.name=full_name')];

/** The statement that renames PostgreSQL 18's NOT NULL constraints of `table` (old, new pairs). */
const notNullRenames = (table: string, pairs: [string, string][]) =>
  `DO $$ DECLARE pair record; BEGIN FOR pair IN SELECT * FROM (VALUES ${pairs.map(([a, b]) => `('${a}', '${b}')`).join(', ')}) AS p(old, new) LOOP ` +
  `IF EXISTS (SELECT FROM pg_constraint WHERE conrelid = '"${table}"'::regclass AND contype = 'n' AND conname = pair.old) ` +
  `THEN EXECUTE format('ALTER TABLE "${table}" RENAME CONSTRAINT %I TO %I', pair.old, pair.new); END IF; END LOOP; END $$;`;
const NOT_NULL_CHANGE = 'rename the NOT NULL constraints (PostgreSQL 18)';

async function upAndDown(from: Snapshot, to: Snapshot, renames: Rename[] = []) {
  const up = await diffSnapshots(from, to, { renames });
  const down = await diffSnapshots(to, from, { renames: renames.map(reverseRename) });
  return { up, down };
}

async function apply(db: PGlite, statements: string[]) {
  for (const statement of statements) await db.exec(statement);
}

describe('snapshots', () => {
  it('emptySnapshot has the origin ids and no objects', () => {
    const empty = emptySnapshot();
    expect(empty).toMatchObject({ version: '7', dialect: 'postgresql', tables: {}, enums: {}, schemas: {} });
    expect(empty.id).toBe('00000000-0000-0000-0000-000000000000');
    expect(empty.prevId).toBe(empty.id);
    expect(emptySnapshot()).toEqual(empty);
  });

  it('snapshotsEqual ignores ids and key order but not schema changes', () => {
    const a = blog();
    const b = blog();
    expect(a.id).not.toBe(b.id);
    expect(snapshotsEqual(a, b)).toBe(true);
    expect(snapshotsEqual({ ...a, tables: Object.fromEntries(Object.entries(a.tables).reverse()) }, a)).toBe(
      true,
    );
    expect(snapshotsEqual(emptySnapshot(), snapshotFromSchema({}))).toBe(true);
    expect(snapshotsEqual(a, blog({ extraColumn: 'settings' }))).toBe(false);
    expect(snapshotsEqual(a, emptySnapshot())).toBe(false);
  });
});

describe('parseRename', () => {
  it('parses table and column renames, and reverses them', () => {
    expect(parseRename('posts=articles')).toEqual({ kind: 'table', from: 'posts', to: 'articles' });
    expect(parseRename(' users.email = login ')).toEqual({
      kind: 'column',
      table: 'users',
      from: 'email',
      to: 'login',
    });
    expect(reverseRename(parseRename('users.email=login'))).toEqual({
      kind: 'column',
      table: 'users',
      from: 'login',
      to: 'email',
    });
  });

  it.each(['', 'users', 'users=', '=people', 'a=b=c', 'my table=x', 'users."email"=login'])(
    'rejects %j',
    (spec) => {
      expect(() => parseRename(spec)).toThrow(
        /^Invalid rename .*expected old_table=new_table, table\.old_column=new_column or enum:type\.old_value=new_value/,
      );
    },
  );

  it('explains the less obvious mistakes', () => {
    expect(() => parseRename('users.email=users.login')).toThrow(/the new name is bare/);
    expect(() => parseRename('public.users.email=login')).toThrow(/schema-qualified names are not supported/);
    expect(() => parseRename('users=users')).toThrow(/old and new names are the same/);
  });
});

describe('diffSnapshots', () => {
  it('creates a schema from empty and drops it in reverse', async () => {
    const { up, down } = await upAndDown(emptySnapshot(), blog());
    expect(up.statements).toEqual([
      CREATE_USERS,
      createPosts('posts'),
      addPostsFk('posts'),
      'CREATE UNIQUE INDEX "users_email_idx" ON "users" USING btree ("email");',
      'CREATE INDEX "posts_author_idx" ON "posts" USING btree ("author_id");',
    ]);
    expect(up.changes).toEqual([
      'create table users',
      'create table posts',
      'add foreign key posts_author_fk on posts',
      'create unique index users_email_idx on users',
      'create index posts_author_idx on posts',
    ]);
    expect(up.dataLoss).toEqual([]);
    // no CASCADE: the FK between two dropped tables goes first
    expect(down.statements).toEqual([
      'ALTER TABLE "posts" DROP CONSTRAINT "posts_author_fk";',
      'DROP TABLE "users";',
      'DROP TABLE "posts";',
    ]);
    expect(down.dataLoss).toEqual(['drop table users', 'drop table posts']);
  });

  it('returns nothing when nothing changed', async () => {
    expect(await diffSnapshots(blog(), blog())).toEqual({ statements: [], changes: [], dataLoss: [] });
  });

  it('turns a column removed and another added into DROP + ADD without prompting', async () => {
    const { up, down } = await upAndDown(blog(), blog({ extraColumn: 'settings' }));
    expect(up.statements).toEqual([
      'ALTER TABLE "users" DROP COLUMN "profile";',
      'ALTER TABLE "users" ADD COLUMN "settings" jsonb;',
    ]);
    expect(up.changes).toEqual(['drop column users.profile', 'add column users.settings']);
    expect(up.dataLoss).toEqual(['drop column users.profile']);
    expect(down.statements).toEqual([
      'ALTER TABLE "users" DROP COLUMN "settings";',
      'ALTER TABLE "users" ADD COLUMN "profile" jsonb;',
    ]);
  });

  it('drops the indexes and checks of a removed column before the column, and re-creates them', async () => {
    const { up } = await upAndDown(blog(), blog({ emailColumn: 'login' }));
    expect(up.statements).toEqual([
      'ALTER TABLE "users" DROP CONSTRAINT "users_email_not_empty";',
      'DROP INDEX "users_email_idx";',
      'ALTER TABLE "users" DROP COLUMN "email";',
      'ALTER TABLE "users" ADD COLUMN "login" varchar(255) NOT NULL;',
      'CREATE UNIQUE INDEX "users_email_idx" ON "users" USING btree ("login");',
      'ALTER TABLE "users" ADD CONSTRAINT "users_email_not_empty" CHECK ("users"."login" <> \'\');',
    ]);
    expect(up.dataLoss).toEqual(['drop column users.email']);
  });

  it('turns a table replaced by another into DROP TABLE + CREATE TABLE', async () => {
    const { up, down } = await upAndDown(blog(), blog({ postsTable: 'articles' }));
    expect(up.statements).toEqual([
      'DROP TABLE "posts";',
      createPosts('articles'),
      addPostsFk('articles'),
      'CREATE INDEX "articles_author_idx" ON "articles" USING btree ("author_id");',
    ]);
    expect(up.changes).toEqual([
      'drop table posts',
      'create table articles',
      'add foreign key articles_author_fk on articles',
      'create index articles_author_idx on articles',
    ]);
    expect(up.dataLoss).toEqual(['drop table posts']);
    expect(down.statements).toEqual([
      'DROP TABLE "articles";',
      createPosts('posts'),
      addPostsFk('posts'),
      'CREATE INDEX "posts_author_idx" ON "posts" USING btree ("author_id");',
    ]);
  });

  it('drops a foreign key before the table it points at (drizzle-kit alone does it after DROP ... CASCADE)', async () => {
    const { up } = await upAndDown(catalog(true), catalog(false));
    expect(up.statements).toEqual([
      'ALTER TABLE "items" DROP CONSTRAINT "items_kind_id_kinds_id_fk";',
      'DROP TABLE "kinds";',
    ]);
  });

  it('renames a column with --rename table.old=new, up and back, and nothing else', async () => {
    const { up, down } = await upAndDown(blog(), blog({ emailColumn: 'login' }), [
      parseRename('users.email=login'),
    ]);
    expect(up).toEqual({
      statements: [
        'ALTER TABLE "users" RENAME COLUMN "email" TO "login";',
        notNullRenames('users', [['users_email_not_null', 'users_login_not_null']]),
      ],
      changes: ['rename column users.email -> login', NOT_NULL_CHANGE],
      dataLoss: [],
    });
    expect(down.statements).toEqual([
      'ALTER TABLE "users" RENAME COLUMN "login" TO "email";',
      notNullRenames('users', [['users_login_not_null', 'users_email_not_null']]),
    ]);
  });

  it('renames a table with --rename old=new, up and back, and nothing else', async () => {
    const to = blog({ postsTable: 'articles', postsPrefix: 'posts' });
    const { up, down } = await upAndDown(blog(), to, [parseRename('posts=articles')]);
    const notNull = (from: string, to: string) =>
      notNullRenames(
        to,
        ['id', 'author_id', 'title'].map((column): [string, string] => [
          `${from}_${column}_not_null`,
          `${to}_${column}_not_null`,
        ]),
      );
    expect(up).toEqual({
      statements: [
        'ALTER TABLE "posts" RENAME TO "articles";',
        'ALTER INDEX IF EXISTS "posts_pkey" RENAME TO "articles_pkey";',
        notNull('posts', 'articles'),
      ],
      changes: [
        'rename table posts -> articles',
        'rename index posts_pkey -> articles_pkey',
        NOT_NULL_CHANGE,
      ],
      dataLoss: [],
    });
    expect(down.statements).toEqual([
      'ALTER TABLE "articles" RENAME TO "posts";',
      'ALTER INDEX IF EXISTS "articles_pkey" RENAME TO "posts_pkey";',
      notNull('articles', 'posts'),
    ]);
  });

  it('renames a table and one of its columns together, naming the table either way', async () => {
    const to = blog({ postsTable: 'articles', postsPrefix: 'posts', titleColumn: 'headline' });
    const byNewName = [parseRename('posts=articles'), parseRename('articles.title=headline')];
    const byOldName = [parseRename('posts=articles'), parseRename('posts.title=headline')];
    for (const renames of [byNewName, byOldName]) {
      const { up, down } = await upAndDown(blog(), to, renames);
      expect(up.statements).toEqual([
        'ALTER TABLE "posts" RENAME COLUMN "title" TO "headline";',
        'ALTER TABLE "posts" RENAME TO "articles";',
        'ALTER INDEX IF EXISTS "posts_pkey" RENAME TO "articles_pkey";',
        notNullRenames('articles', [
          ['posts_id_not_null', 'articles_id_not_null'],
          ['posts_author_id_not_null', 'articles_author_id_not_null'],
          ['posts_title_not_null', 'articles_headline_not_null'],
        ]),
      ]);
      expect(down.statements).toEqual([
        'ALTER TABLE "articles" RENAME COLUMN "headline" TO "title";',
        'ALTER TABLE "articles" RENAME TO "posts";',
        'ALTER INDEX IF EXISTS "articles_pkey" RENAME TO "posts_pkey";',
        notNullRenames('posts', [
          ['articles_id_not_null', 'posts_id_not_null'],
          ['articles_author_id_not_null', 'posts_author_id_not_null'],
          ['articles_headline_not_null', 'posts_title_not_null'],
        ]),
      ]);
    }
  });

  it('renames default-named constraints and indexes along with their table or column', async () => {
    const { up, down } = await upAndDown(members(1), members(2), MEMBER_RENAMES);
    expect(up.statements).toEqual([
      'ALTER TABLE "users" RENAME COLUMN "name" TO "full_name";',
      'ALTER TABLE "users" RENAME TO "people";',
      'ALTER INDEX IF EXISTS "users_pkey" RENAME TO "people_pkey";',
      'ALTER TABLE "posts" RENAME CONSTRAINT "posts_user_id_users_id_fk" TO "posts_user_id_people_id_fk";',
      'ALTER SEQUENCE "users_id_seq" RENAME TO "people_id_seq";',
      'ALTER INDEX "users_name_index" RENAME TO "people_full_name_index";',
      'ALTER TABLE "people" RENAME CONSTRAINT "users_name_unique" TO "people_full_name_unique";',
      notNullRenames('people', [['users_id_not_null', 'people_id_not_null']]),
    ]);
    expect(down.statements).toEqual([
      'ALTER TABLE "people" RENAME COLUMN "full_name" TO "name";',
      'ALTER TABLE "people" RENAME TO "users";',
      'ALTER INDEX IF EXISTS "people_pkey" RENAME TO "users_pkey";',
      'ALTER TABLE "posts" RENAME CONSTRAINT "posts_user_id_people_id_fk" TO "posts_user_id_users_id_fk";',
      'ALTER SEQUENCE "people_id_seq" RENAME TO "users_id_seq";',
      'ALTER INDEX "people_full_name_index" RENAME TO "users_name_index";',
      'ALTER TABLE "users" RENAME CONSTRAINT "people_full_name_unique" TO "users_name_unique";',
      notNullRenames('users', [['people_id_not_null', 'users_id_not_null']]),
    ]);
  });

  it('refuses renames whose source or target does not exist', async () => {
    const from = blog();
    const to = blog({ emailColumn: 'login' });
    const diff = (spec: string) => diffSnapshots(from, to, { renames: [parseRename(spec)] });
    await expect(diff('accounts=members')).rejects.toThrow(
      'Cannot rename table accounts to members: table "accounts" does not exist in the previous snapshot',
    );
    await expect(diff('posts=articles')).rejects.toThrow(
      'Cannot rename table posts to articles: table "public.articles" does not exist in the new schema',
    );
    await expect(diff('users.mail=login')).rejects.toThrow(
      /column "mail" does not exist in the previous snapshot/,
    );
    await expect(diff('users.email=mail')).rejects.toThrow(
      /column "users\.mail" does not exist in the new schema/,
    );
    await expect(diff('people.email=login')).rejects.toThrow(
      /table "people" does not exist in the previous snapshot/,
    );
  });

  it('reports enum swaps as data loss, and not a widening to text', async () => {
    const { up } = await upAndDown(notes(1), notes(2));
    expect(up.statements).toEqual([
      `CREATE TYPE "public"."feeling" AS ENUM('meh');`,
      'ALTER TABLE "notes" ALTER COLUMN "mood" SET DATA TYPE "public"."feeling" USING "mood"::text::"public"."feeling";',
      'ALTER TABLE "notes" ALTER COLUMN "body" SET DATA TYPE text;',
      'DROP TYPE "public"."mood";',
    ]);
    // varchar -> text is a widening: every value survives
    expect(up.dataLoss).toEqual(['alter column notes.mood type public.feeling', 'drop enum mood']);
  });

  it('drops a column-level primary key by looking its name up, before adding the new one', async () => {
    const { up } = await upAndDown(keyed(1), keyed(2));
    expect(up.statements).toEqual([
      `DO $$ DECLARE pk text; BEGIN SELECT conname INTO pk FROM pg_constraint WHERE conrelid = '"public"."pairs"'::regclass ` +
        `AND contype = 'p'; IF pk IS NOT NULL THEN EXECUTE format('ALTER TABLE "public"."pairs" DROP CONSTRAINT %I', pk); END IF; END $$;`,
      'ALTER TABLE "pairs" ADD PRIMARY KEY ("b");',
    ]);
    expect(up.changes).toEqual(['drop primary key on pairs', 'add primary key pairs.b']);
  });
});

// each test starts its own PGlite: seconds of CPU on a busy machine
describe('on PGlite', { timeout: 180_000 }, () => {
  const publicTables = async (db: PGlite) =>
    (
      await db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      )
    ).rows.map((row) => row.table_name);

  it('applies every up and down migration, keeps data across renames, and ends with no tables', async () => {
    const db = new PGlite();
    try {
      const v1 = blog();
      const create = await diffSnapshots(emptySnapshot(), v1);
      await apply(db, create.statements);
      expect(await publicTables(db)).toEqual(['posts', 'users']);

      for (const to of [
        blog({ extraColumn: 'settings' }),
        blog({ emailColumn: 'login', postsTable: 'articles' }),
      ]) {
        const { up, down } = await upAndDown(v1, to);
        await apply(db, up.statements);
        await apply(db, down.statements);
      }

      const renamed = blog({ emailColumn: 'login', postsTable: 'articles', postsPrefix: 'posts' });
      const { up, down } = await upAndDown(v1, renamed, [
        parseRename('users.email=login'),
        parseRename('posts=articles'),
      ]);
      await db.exec(`INSERT INTO users (email) VALUES ('grace@example.com')`);
      await apply(db, up.statements);
      expect((await db.query('SELECT login FROM users')).rows).toEqual([{ login: 'grace@example.com' }]);
      expect(await publicTables(db)).toEqual(['articles', 'users']);
      await apply(db, down.statements);
      expect((await db.query('SELECT email FROM users')).rows).toEqual([{ email: 'grace@example.com' }]);

      await apply(db, (await diffSnapshots(v1, emptySnapshot())).statements);
      expect(await publicTables(db)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('runs, both ways, the diffs drizzle-kit alone would prompt for or order wrongly, and derived renames', async () => {
    const db = new PGlite();
    try {
      for (const [v1, v2, renames] of [
        [catalog(true), catalog(false), []],
        [notes(1), notes(2), []],
        [keyed(1), keyed(2), []],
        [members(1), members(2), MEMBER_RENAMES],
      ] as const) {
        await apply(db, (await diffSnapshots(emptySnapshot(), v1)).statements);
        const { up, down } = await upAndDown(v1, v2, [...renames]);
        await apply(db, up.statements);
        await apply(db, down.statements);
        await apply(db, (await diffSnapshots(v1, emptySnapshot())).statements);
      }
      expect(await publicTables(db)).toEqual([]);
      expect((await db.query("SELECT typname FROM pg_type WHERE typtype = 'e'")).rows).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
