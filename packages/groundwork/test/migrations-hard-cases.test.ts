/**
 * The hard cases of the migrations engine (issue 18), each run with rows in the tables, on PGlite (default)
 * or on the server named by TEST_DATABASE_URL (a scratch database for the file).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  pgEnum,
  pgSchema,
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
import { copyMigrations, databasePerFile, query } from './support/harness.ts';

// Each check builds and migrates a shadow database: seconds on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const shared = databasePerFile('gwt_hard');

/** An empty migrations folder. */
const emptyFolder = () => join(copyMigrations(), '..', 'hard');

async function revise(dir: string, schema: Record<string, unknown>, message: string, renames?: string[]) {
  const result = await createRevision(dir, schema, { message, autogenerate: true, renames });
  if (!result.dir) throw new Error(`no changes for "${message}"`);
  return { ...result, dir: result.dir, up: read(result.dir, 'up.sql'), down: read(result.dir, 'down.sql') };
}

/** A hand-written migration (`revision --empty`, then its two files written). */
async function handWritten(dir: string, message: string, up: string, down: string) {
  const result = await createRevision(dir, {}, { message, autogenerate: false });
  writeFileSync(join(result.dir!, 'up.sql'), `-- ${message}\n${up}\n`);
  writeFileSync(join(result.dir!, 'down.sql'), `${down}\n`);
  return result.dir!;
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
const count = async (table: string) =>
  Number((await query<{ n: number }>(shared.handle, `select count(*)::int as n from ${table}`))[0]!.n);

const users = pgTable('users', { id: serial('id').primaryKey(), name: text('name').notNull() });
const posts = pgTable('posts', {
  id: serial('id').primaryKey(),
  userId: integer('user_id').references(() => users.id),
  title: text('title').notNull(),
});

describe('D1: never drops what it does not manage', () => {
  it('removing a table a hand-written view depends on: no CASCADE, PostgreSQL names the view, nothing changes', async () => {
    const dir = emptyFolder();
    await revise(dir, { users, posts }, 'create users and posts');
    await upgrade(shared.handle, dir);
    await query(shared.handle, "insert into users (name) values ('ada')");
    await query(shared.handle, "insert into posts (user_id, title) values (1, 'one'), (1, 'two')");
    await handWritten(
      dir,
      'post titles view',
      'CREATE VIEW post_titles AS SELECT id, title FROM posts;',
      'DROP VIEW post_titles;',
    );
    await upgrade(shared.handle, dir);

    const dropped = await revise(dir, { users }, 'drop posts');
    expect(dropped.up).toContain('DROP TABLE "posts";');
    expect(dropped.up).not.toMatch(/CASCADE/);
    await expect(upgrade(shared.handle, dir)).rejects.toThrow(
      /cannot drop table posts because other objects depend on it\nDETAIL: view post_titles depends on table posts\nGroundwork never drops with CASCADE/,
    );
    expect(await count('post_titles')).toBe(2);

    // what the message says: drop the view first in this migration, re-create it in its down
    writeFileSync(
      join(dropped.dir, 'up.sql'),
      `DROP VIEW post_titles;\n--> statement-breakpoint\n${dropped.up}`,
    );
    writeFileSync(
      join(dropped.dir, 'down.sql'),
      `${dropped.down}--> statement-breakpoint\nCREATE VIEW post_titles AS SELECT id, title FROM posts;\n`,
    );
    await upgrade(shared.handle, dir);
    await downgrade(shared.handle, dir, '-2');
    expect(await count('posts')).toBe(0);
    expect(await count('users')).toBe(1);
  });
});

const accounts = pgTable('accounts', { id: serial('id').primaryKey(), name: text('name').notNull() });
const accountsWithPlan = pgTable('accounts', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  plan: varchar('plan', { length: 20 }).notNull(),
});

describe('D2: generated downs run on populated tables', () => {
  it('the down of a dropped NOT NULL column re-adds it nullable, with a comment, and runs with rows', async () => {
    const dir = emptyFolder();
    await revise(dir, { accounts: accountsWithPlan }, 'create accounts');
    await upgrade(shared.handle, dir);
    await query(shared.handle, "insert into accounts (name, plan) values ('a', 'free'), ('b', 'pro')");
    const dropped = await revise(dir, { accounts }, 'drop plan');
    expect(dropped.down).toContain('-- groundwork: "plan" comes back nullable');
    expect(dropped.down).toContain('ALTER TABLE "accounts" ADD COLUMN "plan" varchar(20);');
    await upgrade(shared.handle, dir);
    await downgrade(shared.handle, dir, '-1');
    expect(await query(shared.handle, 'select name, plan from accounts order by id')).toEqual([
      { name: 'a', plan: null },
      { name: 'b', plan: null },
    ]);
  });

  it('adding a NOT NULL column without a default warns at generation time', async () => {
    const dir = emptyFolder();
    await revise(dir, { accounts }, 'create accounts');
    await upgrade(shared.handle, dir);
    await query(shared.handle, "insert into accounts (name) values ('a')");
    const added = await revise(dir, { accounts: accountsWithPlan }, 'add plan');
    const warning =
      'adding NOT NULL column accounts.plan without a default fails if accounts has rows: give it a default, ' +
      'or add it nullable, backfill, then SET NOT NULL';
    expect(added.warnings).toEqual([warning]);
    expect(added.up).toContain(`-- WARNING: ${warning}`);
    await expect(upgrade(shared.handle, dir)).rejects.toThrow(
      /column "plan" of relation "accounts" contains null values/,
    );
  });
});

describe('D3: an identity added to a populated key starts after its rows', () => {
  const plain = pgTable('tickets', { id: integer('id').primaryKey(), subject: text('subject').notNull() });
  const identity = pgTable('tickets', {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    subject: text('subject').notNull(),
  });

  it('moves the new sequence past max(id), so the next insert succeeds', async () => {
    const dir = emptyFolder();
    await revise(dir, { tickets: plain }, 'create tickets');
    await upgrade(shared.handle, dir);
    await query(shared.handle, "insert into tickets (id, subject) values (1, 'a'), (2, 'b'), (7, 'c')");
    const changed = await revise(dir, { tickets: identity }, 'tickets id identity');
    expect(changed.changes).toContain('start the identity of tickets.id after its existing rows');
    await upgrade(shared.handle, dir);
    const [row] = await query<{ id: number }>(
      shared.handle,
      "insert into tickets (subject) values ('d') returning id",
    );
    expect(row!.id).toBe(8);
    await downgrade(shared.handle, dir, '-1');
    expect(await count('tickets')).toBe(4);
  });

  it('leaves an empty table starting at 1', async () => {
    const dir = emptyFolder();
    await revise(dir, { tickets: plain }, 'create tickets');
    await revise(dir, { tickets: identity }, 'tickets id identity');
    await upgrade(shared.handle, dir);
    const [row] = await query<{ id: number }>(
      shared.handle,
      "insert into tickets (subject) values ('d') returning id",
    );
    expect(row!.id).toBe(1);
  });
});

/** `check` against the database, its shadow built on the same engine. */
const checkLive = (dir: string) => checkDatabase(shared.handle, dir, { settings: shared.settings });

describe('D4: check on a composite primary key', () => {
  const memberships = pgTable(
    'memberships',
    { userId: integer('user_id').notNull(), groupId: integer('group_id').notNull(), role: text('role') },
    (t) => [primaryKey({ columns: [t.userId, t.groupId] })],
  );

  it('passes, and reports a key changed by hand', async () => {
    const dir = emptyFolder();
    await revise(dir, { memberships }, 'create memberships');
    await upgrade(shared.handle, dir);
    await query(shared.handle, "insert into memberships values (1, 1, 'owner'), (1, 2, null)");
    expect(await checkFolder(dir, { memberships })).toEqual([]);
    expect(await checkLive(dir)).toEqual([]);
    await query(shared.handle, 'alter table memberships drop constraint memberships_user_id_group_id_pk');
    await query(
      shared.handle,
      'alter table memberships add constraint memberships_user_id_group_id_pk primary key (group_id, user_id)',
    );
    expect(await checkLive(dir)).toEqual([
      {
        kind: 'drift',
        message:
          'constraint memberships.memberships_user_id_group_id_pk differs: the live database has `PRIMARY KEY (group_id, user_id)`, the migrations give `PRIMARY KEY (user_id, group_id)`',
      },
    ]);
  });
});

describe('D5: tables outside public', () => {
  const auth = pgSchema('auth');
  const sessions = auth.table('sessions', { id: serial('id').primaryKey(), token: text('token').notNull() });

  it('a pgSchema table is no drift, and a hand-made change in that schema is', async () => {
    const dir = emptyFolder();
    await revise(dir, { auth, sessions }, 'create auth sessions');
    await upgrade(shared.handle, dir);
    await query(shared.handle, "insert into auth.sessions (token) values ('a'), ('b')");
    expect(await checkFolder(dir, { auth, sessions })).toEqual([]);
    expect(await checkLive(dir)).toEqual([]);
    await query(shared.handle, 'create index sessions_token on auth.sessions (token)');
    expect(await checkLive(dir)).toEqual([
      {
        kind: 'drift',
        message: 'index auth.sessions_token is in the live database but not in the migrations',
      },
    ]);
    await downgrade(shared.handle, dir, 'base');
    expect(await query(shared.handle, "select 1 from pg_namespace where nspname = 'auth'")).toEqual([]);
  });
});

describe('D7: drift in what PostgreSQL prints', () => {
  const items = pgTable(
    'items',
    {
      id: serial('id').primaryKey(),
      name: text('name').notNull(),
      qty: integer('qty').notNull(),
      total: integer('total').generatedAlwaysAs(sql`qty * 2`),
    },
    (t) => [
      check('items_qty_positive', sql`${t.qty} > 0`),
      index('items_lower_name_idx').on(sql`lower(${t.name})`),
      index('items_active_idx').on(t.name).where(sql`${t.qty} > 5`),
    ],
  );

  it('sees a hand-edited CHECK, expression index, partial index, view and generated column, naming each', async () => {
    const dir = emptyFolder();
    await revise(dir, { items }, 'create items');
    await handWritten(
      dir,
      'item names view',
      'CREATE VIEW item_names AS SELECT id, name FROM items;',
      'DROP VIEW item_names;',
    );
    await upgrade(shared.handle, dir);
    await query(shared.handle, "insert into items (name, qty) values ('a', 1), ('b', 10)");
    expect(await checkLive(dir)).toEqual([]);

    await query(shared.handle, 'alter table items drop constraint items_qty_positive');
    await query(shared.handle, 'alter table items add constraint items_qty_positive check (qty >= 0)');
    await query(shared.handle, 'drop index items_lower_name_idx');
    await query(shared.handle, 'create index items_lower_name_idx on items (upper(name))');
    await query(shared.handle, 'drop index items_active_idx');
    await query(shared.handle, 'create index items_active_idx on items (name) where qty > 6');
    await query(
      shared.handle,
      'create or replace view item_names as select id, upper(name) as name from items',
    );
    await query(shared.handle, 'alter table items drop column total');
    await query(
      shared.handle,
      'alter table items add column total integer generated always as (qty * 3) stored',
    );

    const drift = await checkLive(dir);
    expect(drift.every((problem) => problem.kind === 'drift')).toBe(true);
    expect(drift.map((problem) => problem.message.split(' differs:')[0])).toEqual([
      'column items.total',
      'constraint items.items_qty_positive',
      'index items_active_idx',
      'index items_lower_name_idx',
      'view item_names',
    ]);
    expect(drift[0]!.message).toContain('(qty * 3)');
    expect(drift[4]!.message).toContain('upper(');
  });
});

describe('D8: an enum value added and used in one revision', () => {
  const role = pgEnum('role', ['member', 'admin']);
  const roleWithOwner = pgEnum('role', ['member', 'admin', 'owner']);
  const team = (type: typeof roleWithOwner, fallback: 'member' | 'owner') =>
    pgTable('team', { id: serial('id').primaryKey(), role: type('role').notNull().default(fallback) });

  it('is split in two migrations, the new value first, and both apply and revert with rows', async () => {
    const dir = emptyFolder();
    // the older enum's column, typed as the newer one: drizzle only reads its name here
    await revise(dir, { role, team: team(role as unknown as typeof roleWithOwner, 'member') }, 'create team');
    await upgrade(shared.handle, dir);
    await query(shared.handle, "insert into team (role) values ('member'), ('admin')");
    const result = await createRevision(
      dir,
      { role: roleWithOwner, team: team(roleWithOwner, 'owner') },
      { message: 'owners by default', autogenerate: true },
    );
    const [first, second] = readMigrations(dir).slice(1);
    expect(first!.name).toMatch(/^\d{14}_owners_by_default_enum_values$/);
    expect(second!.name).toMatch(/^\d{14}_owners_by_default$/);
    expect(result.dir).toBe(second!.dir);
    expect(result.warnings).toEqual([
      `enum value(s) public.role.owner are added and used in one revision, which PostgreSQL refuses in one transaction: split into ${first!.name} (the new values) and ${second!.name} (the rest)`,
    ]);
    expect(first!.up.statements).toHaveLength(1);
    expect(first!.up.statements[0]).toMatch(/\nALTER TYPE "public"."role" ADD VALUE 'owner';$/);
    expect(second!.up.text).toContain(`SET DEFAULT 'owner'`);

    await upgrade(shared.handle, dir);
    const [row] = await query<{ role: string }>(
      shared.handle,
      'insert into team default values returning role',
    );
    expect(row!.role).toBe('owner');
    expect(await checkFolder(dir, { role: roleWithOwner, team: team(roleWithOwner, 'owner') })).toEqual([]);
    expect(await checkLive(dir)).toEqual([]);
    await query(shared.handle, "delete from team where role = 'owner'");
    await downgrade(shared.handle, dir, '-2');
    expect(await count('team')).toBe(2);
  });
});

describe('smaller: messages and warnings', () => {
  it('a failed downgrade says the database is still at the migration it could not revert', async () => {
    const dir = emptyFolder();
    await revise(dir, { accounts }, 'create accounts');
    const broken = await handWritten(dir, 'seed', "insert into accounts (name) values ('a')", 'select 1/0;');
    await upgrade(shared.handle, dir);
    const id = basename(broken).slice(0, 14);
    await expect(downgrade(shared.handle, dir, '-1')).rejects.toThrow(
      new RegExp(`division by zero[\\s\\S]*Rolled back: the database is still at ${id}\\.`),
    );
    expect(await count('accounts')).toBe(1);
  });

  it("shows PostgreSQL's HINT: text -> integer without USING says what to write", async () => {
    const dir = emptyFolder();
    const stock = (qty: ReturnType<typeof text> | ReturnType<typeof integer>) =>
      pgTable('stock', { id: serial('id').primaryKey(), qty });
    await revise(dir, { stock: stock(text('qty')) }, 'create stock');
    await upgrade(shared.handle, dir);
    await query(shared.handle, "insert into stock (qty) values ('12'), ('34')");
    await revise(dir, { stock: stock(integer('qty')) }, 'qty as integer');
    await expect(upgrade(shared.handle, dir)).rejects.toThrow(
      /cannot be cast automatically to type integer\nHINT: You might need to specify "USING qty::integer"\./,
    );
  });

  it('safe widenings are no data loss and give no rename advice; a narrowing is flagged', async () => {
    const dir = emptyFolder();
    const sized = (
      name: ReturnType<typeof varchar>,
      note: ReturnType<typeof varchar> | ReturnType<typeof text>,
      n: ReturnType<typeof integer> | ReturnType<typeof bigint>,
    ) => pgTable('sized', { id: serial('id').primaryKey(), name, note, n });
    await revise(
      dir,
      { sized: sized(varchar('name', { length: 50 }), varchar('note'), integer('n')) },
      'create sized',
    );
    await upgrade(shared.handle, dir);
    await query(shared.handle, "insert into sized (name, note, n) values ('a', 'b', 1)");
    const wider = await revise(
      dir,
      { sized: sized(varchar('name', { length: 100 }), text('note'), bigint('n', { mode: 'number' })) },
      'widen',
    );
    expect(wider.changes).toHaveLength(3);
    expect(wider.dataLoss).toEqual([]);
    expect(wider.up).not.toMatch(/WARNING|rename/);
    await upgrade(shared.handle, dir);
    const narrower = await revise(
      dir,
      { sized: sized(varchar('name', { length: 10 }), text('note'), bigint('n', { mode: 'number' })) },
      'narrow',
    );
    expect(narrower.dataLoss).toEqual(['alter column sized.name type varchar(10)']);
    expect(narrower.up).not.toContain('rename');
  });

  it('check flags an unedited revision --empty template, which would apply as a silent no-op', async () => {
    const dir = emptyFolder();
    await revise(dir, { accounts }, 'create accounts');
    const template = await createRevision(dir, {}, { message: 'backfill', autogenerate: false });
    expect(await checkFolder(dir, { accounts })).toEqual([
      {
        kind: 'empty_migration',
        message: `${join(template.dir!, 'up.sql')} is the unedited --empty template (it would apply as a silent no-op): write its statements, or delete ${template.dir}`,
      },
    ]);
    writeFileSync(
      join(template.dir!, 'up.sql'),
      "-- backfill\nupdate accounts set name = 'x' where name = '';\n",
    );
    expect(await checkFolder(dir, { accounts })).toEqual([]);
  });
});
