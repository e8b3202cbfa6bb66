/**
 * The hard cases of the migrations engine (issue 18), each run with rows in the tables, on PGlite (default)
 * or on the server named by TEST_DATABASE_URL (a scratch database for the file).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { integer, pgTable, serial, text, varchar } from 'drizzle-orm/pg-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Settings } from '../src/config.ts';
import { type DatabaseHandle, openDatabase } from '../src/database/open.ts';
import { createRevision } from '../src/migrations/revision.ts';
import { downgrade, upgrade } from '../src/migrations/runner.ts';
import { testSettings } from '../src/testing/index.ts';
import { copyMigrations, query, removeTempFolders, scratchDatabase, serverUrl, shelf } from './fixtures/harness.ts';

let pglite: PGlite | undefined;
let handle: DatabaseHandle<any>;
let settings: Settings;
let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;

beforeAll(async () => {
  if (serverUrl) {
    scratch = await scratchDatabase('gwt_hard');
    settings = testSettings(shelf, {}, scratch.url);
    handle = await openDatabase(settings, { schema: {} });
  } else {
    pglite = await PGlite.create();
    settings = testSettings(shelf);
    handle = await openDatabase(settings, { schema: {}, pglite });
  }
}, 120_000);

beforeEach(async () => {
  if (pglite) await query(handle, 'rollback; select pg_advisory_unlock_all()');
  await query(handle, 'drop schema public cascade');
  await query(handle, 'create schema public');
});

afterEach(() => removeTempFolders());

afterAll(async () => {
  await handle?.close();
  await pglite?.close();
  await scratch?.drop();
});

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
  Number((await query<{ n: number }>(handle, `select count(*)::int as n from ${table}`))[0]!.n);

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
    await upgrade(handle, dir);
    await query(handle, "insert into users (name) values ('ada')");
    await query(handle, "insert into posts (user_id, title) values (1, 'one'), (1, 'two')");
    await handWritten(
      dir,
      'post titles view',
      'CREATE VIEW post_titles AS SELECT id, title FROM posts;',
      'DROP VIEW post_titles;',
    );
    await upgrade(handle, dir);

    const dropped = await revise(dir, { users }, 'drop posts');
    expect(dropped.up).toContain('DROP TABLE "posts";');
    expect(dropped.up).not.toMatch(/CASCADE/);
    await expect(upgrade(handle, dir)).rejects.toThrow(
      /cannot drop table posts because other objects depend on it\nDETAIL: view post_titles depends on table posts\nGroundwork never drops with CASCADE/,
    );
    expect(await count('post_titles')).toBe(2);

    // what the message says: drop the view first in this migration, re-create it in its down
    writeFileSync(join(dropped.dir, 'up.sql'), `DROP VIEW post_titles;\n--> statement-breakpoint\n${dropped.up}`);
    writeFileSync(
      join(dropped.dir, 'down.sql'),
      `${dropped.down}--> statement-breakpoint\nCREATE VIEW post_titles AS SELECT id, title FROM posts;\n`,
    );
    await upgrade(handle, dir);
    await downgrade(handle, dir, '-2');
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
    await upgrade(handle, dir);
    await query(handle, "insert into accounts (name, plan) values ('a', 'free'), ('b', 'pro')");
    const dropped = await revise(dir, { accounts }, 'drop plan');
    expect(dropped.down).toContain('-- groundwork: "plan" comes back nullable');
    expect(dropped.down).toContain('ALTER TABLE "accounts" ADD COLUMN "plan" varchar(20);');
    await upgrade(handle, dir);
    await downgrade(handle, dir, '-1');
    expect(await query(handle, 'select name, plan from accounts order by id')).toEqual([
      { name: 'a', plan: null },
      { name: 'b', plan: null },
    ]);
  });

  it('adding a NOT NULL column without a default warns at generation time', async () => {
    const dir = emptyFolder();
    await revise(dir, { accounts }, 'create accounts');
    await upgrade(handle, dir);
    await query(handle, "insert into accounts (name) values ('a')");
    const added = await revise(dir, { accounts: accountsWithPlan }, 'add plan');
    const warning =
      'adding NOT NULL column accounts.plan without a default fails if accounts has rows: give it a default, ' +
      'or add it nullable, backfill, then SET NOT NULL';
    expect(added.warnings).toEqual([warning]);
    expect(added.up).toContain(`-- WARNING: ${warning}`);
    await expect(upgrade(handle, dir)).rejects.toThrow(/column "plan" of relation "accounts" contains null values/);
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
    await upgrade(handle, dir);
    await query(handle, "insert into tickets (id, subject) values (1, 'a'), (2, 'b'), (7, 'c')");
    const changed = await revise(dir, { tickets: identity }, 'tickets id identity');
    expect(changed.changes).toContain('start the identity of tickets.id after its existing rows');
    await upgrade(handle, dir);
    const [row] = await query<{ id: number }>(handle, "insert into tickets (subject) values ('d') returning id");
    expect(row!.id).toBe(8);
    await downgrade(handle, dir, '-1');
    expect(await count('tickets')).toBe(4);
  });

  it('leaves an empty table starting at 1', async () => {
    const dir = emptyFolder();
    await revise(dir, { tickets: plain }, 'create tickets');
    await revise(dir, { tickets: identity }, 'tickets id identity');
    await upgrade(handle, dir);
    const [row] = await query<{ id: number }>(handle, "insert into tickets (subject) values ('d') returning id");
    expect(row!.id).toBe(1);
  });
});
