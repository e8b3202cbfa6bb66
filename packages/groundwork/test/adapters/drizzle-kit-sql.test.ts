/**
 * Pins src/adapters/drizzle-kit-sql.ts to the installed drizzle-kit: every statement shape the adapter reads is
 * produced here by drizzle-kit itself and compared as text. A drizzle-kit upgrade that writes any of them
 * differently fails this file, naming the shape, before a migration is generated wrong.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DrizzleSnapshotJSON } from 'drizzle-kit/api';
import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  pgEnum,
  pgSchema,
  pgTable,
  primaryKey,
  serial,
  text,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import {
  DRIZZLE_KIT_VERSION,
  dropPrimaryKeyByLookup,
  enumRebuilds,
  onlineForms,
  onlineStep,
  UnexpectedStatementError,
  withoutCascade,
  withoutConcurrently,
  withSequenceAfterRows,
} from '../../src/adapters/drizzle-kit-sql.ts';
import { snapshotFromSchema } from '../../src/migrations/diff.ts';
import { drizzleKit } from '../../src/migrations/drizzle-kit.ts';

/** drizzle-kit's own statements from one schema to another, untouched. */
async function drizzleSql(from: Record<string, unknown>, to: Record<string, unknown>): Promise<string[]> {
  const [a, b] = [snapshotFromSchema(from), snapshotFromSchema(to)] as unknown as DrizzleSnapshotJSON[];
  return (await drizzleKit().generateMigration(a!, b!)).map((s) => s.trim());
}

const app = pgSchema('app');
const users = pgTable('users', { id: serial('id').primaryKey() });
const bare = app.table('items', { id: integer('id'), a: integer('a'), b: text('b') });
const full = app.table(
  'items',
  {
    id: integer('id').primaryKey(),
    a: integer('a')
      .notNull()
      .references(() => users.id),
    b: text('b'),
  },
  (t) => [
    index('items_b_idx').on(t.b),
    uniqueIndex('items_ab_idx').on(t.a, t.b),
    index('items_a_idx').on(t.a).concurrently(),
    unique('items_a_key').on(t.a).nullsNotDistinct(),
    check('items_b_check', sql`${t.b} <> ''`),
  ],
);

describe(`drizzle-kit ${DRIZZLE_KIT_VERSION}`, () => {
  it('is the version installed', () => {
    // drizzle-kit exports no package.json: read the one beside its api module
    const api = createRequire(import.meta.url).resolve('drizzle-kit/api');
    const { version } = JSON.parse(readFileSync(join(dirname(api), 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version).toBe(DRIZZLE_KIT_VERSION);
  });

  it('writes indexes, keys, checks and NOT NULL on an existing table in the shapes the online step reads', async () => {
    const up = await drizzleSql({ app, users, bare }, { app, users, full });
    expect(up).toEqual([
      'ALTER TABLE "app"."items" ADD PRIMARY KEY ("id");',
      'ALTER TABLE "app"."items" ALTER COLUMN "id" SET NOT NULL;',
      'ALTER TABLE "app"."items" ALTER COLUMN "a" SET NOT NULL;',
      'ALTER TABLE "app"."items" ADD CONSTRAINT "items_a_users_id_fk" FOREIGN KEY ("a") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;',
      'CREATE INDEX "items_b_idx" ON "app"."items" USING btree ("b");',
      'CREATE UNIQUE INDEX "items_ab_idx" ON "app"."items" USING btree ("a","b");',
      'CREATE INDEX CONCURRENTLY "items_a_idx" ON "app"."items" USING btree ("a");',
      'ALTER TABLE "app"."items" ADD CONSTRAINT "items_a_key" UNIQUE NULLS NOT DISTINCT("a");',
      `ALTER TABLE "app"."items" ADD CONSTRAINT "items_b_check" CHECK ("app"."items"."b" <> '');`,
    ]);
    // every one has an online form; the stages put NOT NULL before the key that needs it
    expect(onlineStep(up)).toEqual([
      `ALTER TABLE "app"."items" DROP CONSTRAINT IF EXISTS "groundwork_not_null_id", ADD CONSTRAINT "groundwork_not_null_id" CHECK ("id" IS NOT NULL) NOT VALID;`,
      'ALTER TABLE "app"."items" VALIDATE CONSTRAINT "groundwork_not_null_id";',
      'ALTER TABLE "app"."items" ALTER COLUMN "id" SET NOT NULL;',
      'ALTER TABLE "app"."items" DROP CONSTRAINT IF EXISTS "groundwork_not_null_id";',
      `ALTER TABLE "app"."items" DROP CONSTRAINT IF EXISTS "groundwork_not_null_a", ADD CONSTRAINT "groundwork_not_null_a" CHECK ("a" IS NOT NULL) NOT VALID;`,
      'ALTER TABLE "app"."items" VALIDATE CONSTRAINT "groundwork_not_null_a";',
      'ALTER TABLE "app"."items" ALTER COLUMN "a" SET NOT NULL;',
      'ALTER TABLE "app"."items" DROP CONSTRAINT IF EXISTS "groundwork_not_null_a";',
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "items_pkey" ON "app"."items" USING btree ("id");',
      `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = '"app"."items"'::regclass AND conname = 'items_pkey') THEN ALTER TABLE "app"."items" ADD CONSTRAINT "items_pkey" PRIMARY KEY USING INDEX "items_pkey"; END IF; END $$;`,
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS "items_b_idx" ON "app"."items" USING btree ("b");',
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "items_ab_idx" ON "app"."items" USING btree ("a","b");',
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS "items_a_idx" ON "app"."items" USING btree ("a");',
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "items_a_key" ON "app"."items" USING btree ("a") NULLS NOT DISTINCT;',
      `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = '"app"."items"'::regclass AND conname = 'items_a_key') THEN ALTER TABLE "app"."items" ADD CONSTRAINT "items_a_key" UNIQUE USING INDEX "items_a_key"; END IF; END $$;`,
      'ALTER TABLE "app"."items" DROP CONSTRAINT IF EXISTS "items_a_users_id_fk", ADD CONSTRAINT "items_a_users_id_fk" FOREIGN KEY ("a") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action NOT VALID;',
      `ALTER TABLE "app"."items" DROP CONSTRAINT IF EXISTS "items_b_check", ADD CONSTRAINT "items_b_check" CHECK ("app"."items"."b" <> '') NOT VALID;`,
      'ALTER TABLE "app"."items" VALIDATE CONSTRAINT "items_a_users_id_fk";',
      'ALTER TABLE "app"."items" VALIDATE CONSTRAINT "items_b_check";',
    ]);
    // `.concurrently()` on a table created in a transaction cannot be CONCURRENTLY
    expect(withoutConcurrently(up[6]!)).toBe(
      'CREATE INDEX "items_a_idx" ON "app"."items" USING btree ("a");',
    );
  });

  it('writes their removal in the shapes the online step reads, the column key as a comment it cannot name', async () => {
    const down = await drizzleSql({ app, users, full }, { app, users, bare });
    expect(down.map((s) => s.replace(/\s+/g, ' '))).toEqual([
      'ALTER TABLE "app"."items" DROP CONSTRAINT "items_a_key";',
      'ALTER TABLE "app"."items" DROP CONSTRAINT "items_b_check";',
      'ALTER TABLE "app"."items" DROP CONSTRAINT "items_a_users_id_fk";',
      'DROP INDEX "app"."items_b_idx";',
      'DROP INDEX "app"."items_ab_idx";',
      'DROP INDEX "app"."items_a_idx";',
      expect.stringMatching(
        /^\/\* .*can't automatically get name for primary key.*table_schema = 'app'.*table_name = 'items'/,
      ),
      'ALTER TABLE "app"."items" ALTER COLUMN "id" DROP NOT NULL;',
      'ALTER TABLE "app"."items" ALTER COLUMN "a" DROP NOT NULL;',
    ]);
    const dropKey = dropPrimaryKeyByLookup(down[6]!);
    expect(dropKey).toBe(
      `DO $$ DECLARE pk text; BEGIN SELECT conname INTO pk FROM pg_constraint WHERE conrelid = '"app"."items"'::regclass ` +
        `AND contype = 'p'; IF pk IS NOT NULL THEN EXECUTE format('ALTER TABLE "app"."items" DROP CONSTRAINT %I', pk); END IF; END $$;`,
    );
    expect(onlineStep([...down.slice(0, 6), dropKey, ...down.slice(7)])).toEqual([
      'ALTER TABLE "app"."items" DROP CONSTRAINT IF EXISTS "items_a_key";',
      'ALTER TABLE "app"."items" DROP CONSTRAINT IF EXISTS "items_b_check";',
      'ALTER TABLE "app"."items" DROP CONSTRAINT IF EXISTS "items_a_users_id_fk";',
      'DROP INDEX CONCURRENTLY IF EXISTS "app"."items_b_idx";',
      'DROP INDEX CONCURRENTLY IF EXISTS "app"."items_ab_idx";',
      'DROP INDEX CONCURRENTLY IF EXISTS "app"."items_a_idx";',
      dropKey,
      'ALTER TABLE "app"."items" ALTER COLUMN "id" DROP NOT NULL;',
      'ALTER TABLE "app"."items" ALTER COLUMN "a" DROP NOT NULL;',
    ]);
  });

  it('writes a composite primary key, DROP TABLE ... CASCADE and an identity in the shapes the adapter reads', async () => {
    const pairs = pgTable('pairs', { a: integer('a').notNull(), b: integer('b').notNull() });
    const keyed = pgTable('pairs', { a: integer('a').notNull(), b: integer('b').notNull() }, (t) => [
      primaryKey({ columns: [t.a, t.b] }),
    ]);
    const [key] = await drizzleSql({ pairs }, { pairs: keyed });
    expect(key).toBe('ALTER TABLE "pairs" ADD CONSTRAINT "pairs_a_b_pk" PRIMARY KEY("a","b");');
    expect(onlineForms(key!).map((form) => form.sql)).toEqual([
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "pairs_a_b_pk" ON "pairs" USING btree ("a","b");',
      `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = '"pairs"'::regclass AND conname = 'pairs_a_b_pk') THEN ALTER TABLE "pairs" ADD CONSTRAINT "pairs_a_b_pk" PRIMARY KEY USING INDEX "pairs_a_b_pk"; END IF; END $$;`,
    ]);

    const [drop] = await drizzleSql({ pairs }, {});
    expect(drop).toBe('DROP TABLE "pairs" CASCADE;');
    expect(withoutCascade(drop!)).toBe('DROP TABLE "pairs";');

    const plain = pgTable('tickets', { id: integer('id').notNull() });
    const identity = pgTable('tickets', { id: integer('id').notNull().generatedByDefaultAsIdentity() });
    const [added] = await drizzleSql({ plain }, { identity });
    expect(added).toMatch(
      /^ALTER TABLE "tickets" ALTER COLUMN "id" ADD GENERATED BY DEFAULT AS IDENTITY \(sequence name "tickets_id_seq"/,
    );
    expect(withSequenceAfterRows(added!)[1]).toBe(
      `SELECT setval(pg_get_serial_sequence('"tickets"', 'id'), max("id")) FROM "tickets" HAVING max("id") IS NOT NULL;`,
    );
  });

  it('rebuilds an enum that lost a value in the sequence the view keeper wraps', async () => {
    const before = pgEnum('mood', ['sad', 'ok', 'happy']);
    const after = pgEnum('mood', ['sad', 'happy']);
    const notes = (mood: typeof before) =>
      pgTable('notes', { id: serial('id').primaryKey(), mood: mood('mood').default('sad') });
    const statements = await drizzleSql(
      { before, notes: notes(before) },
      { after, notes: notes(after as unknown as typeof before) },
    );
    expect(statements).toEqual([
      'ALTER TABLE "notes" ALTER COLUMN "mood" SET DATA TYPE text;',
      `ALTER TABLE "notes" ALTER COLUMN "mood" SET DEFAULT 'sad'::text;`,
      'DROP TYPE "public"."mood";',
      `CREATE TYPE "public"."mood" AS ENUM('sad', 'happy');`,
      `ALTER TABLE "notes" ALTER COLUMN "mood" SET DEFAULT 'sad'::"public"."mood";`,
      'ALTER TABLE "notes" ALTER COLUMN "mood" SET DATA TYPE "public"."mood" USING "mood"::"public"."mood";',
    ]);
    expect(enumRebuilds(statements)).toEqual([{ type: '"public"."mood"', start: 0, end: 5 }]);
  });

  it('refuses a statement it has no online form for, loudly', () => {
    expect(() => onlineForms('ALTER TABLE "posts" ALTER COLUMN "n" SET DATA TYPE bigint;')).toThrow(
      UnexpectedStatementError,
    );
  });
});
