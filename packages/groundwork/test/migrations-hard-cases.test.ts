/**
 * The hard cases of the migrations engine (issue 18), each run with rows in the tables, on PGlite (default)
 * or on the server named by TEST_DATABASE_URL (a scratch database for the file).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { integer, pgTable, serial, text } from 'drizzle-orm/pg-core';
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
