import { count, DrizzleQueryError, eq, sql } from 'drizzle-orm';
import { bigint, boolean, date, jsonb, numeric, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { PostgresJsPreparedQuery } from 'drizzle-orm/postgres-js/session';
import { describe, expect, it } from 'vitest';
import { databaseErrorOf } from '../src/database/connection-errors.ts';
import type { Database } from '../src/database/open.ts';
import {
  type Bindable,
  hotQuery,
  hotUpdate,
  type PreparedQuery,
  placeholders,
  preparePerKeys,
  prepareQuery,
} from '../src/database/prepared.ts';
import { setupTestApp, testBackend } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';
import { authors, notes as notesTable } from './support/notes/src/schema.ts';

const t = setupTestApp(notes);

/** A query whose prepare() records the name Drizzle would pass on to postgres.js. */
function recordingQuery() {
  const names: (string | undefined)[] = [];
  const prepared = { execute: async () => [] };
  return {
    names,
    query: {
      prepare: (name?: string) => {
        names.push(name);
        return prepared;
      },
    },
  };
}

describe('prepareQuery', () => {
  it('names the statement when the connection prepares, and leaves the name out when it does not', () => {
    const on = recordingQuery();
    prepareQuery({ $client: { options: { prepare: true } } } as unknown as Database, 'hot', on.query);
    const off = recordingQuery();
    // postgres.js with prepare: false (DB_PREPARE=false behind PgBouncer in transaction mode).
    prepareQuery({ $client: { options: { prepare: false } } } as unknown as Database, 'hot', off.query);
    expect(on.names).toEqual(['hot']);
    expect(off.names).toEqual([undefined]);
  });

  it("runs a prepared query with placeholders on this run's backend", async () => {
    await t.db.insert(authors).values({ email: 'ann@example.com' });
    const byEmail = prepareQuery(
      t.db,
      'authors_by_email',
      t.db
        .select()
        .from(authors)
        .where(eq(authors.email, sql.placeholder('email'))),
    );
    expect(await byEmail.execute({ email: 'ann@example.com' })).toHaveLength(1);
    expect(await byEmail.execute({ email: 'bob@example.com' })).toHaveLength(0);
  });
});

describe('preparePerKeys', () => {
  it('prepares one statement per set of keys, in any order, and runs it with their values', async () => {
    const [ann] = await t.db.insert(authors).values({ email: 'ann@example.com' }).returning();
    const [note] = await t.db.insert(notesTable).values({ authorId: ann!.id, body: 'draft' }).returning();
    const built: string[][] = [];
    const update = preparePerKeys(t.db, 'notes_update', (keys) => {
      built.push(keys);
      return t.db
        .update(notesTable)
        .set(placeholders(keys))
        .where(eq(notesTable.id, sql.placeholder('id')))
        .returning();
    });
    expect(await update(['stars', 'body']).execute({ id: note!.id, body: 'final', stars: 4 })).toMatchObject([
      { body: 'final', stars: 4 },
    ]);
    expect(await update(['body', 'stars']).execute({ id: note!.id, body: 'again', stars: 5 })).toMatchObject([
      { body: 'again', stars: 5 },
    ]);
    expect(await update(['stars']).execute({ id: note!.id, stars: 1 })).toMatchObject([
      { body: 'again', stars: 1 },
    ]);
    expect(built).toEqual([['body', 'stars'], ['stars']]);
  });
});

describe('hotQuery and hotUpdate', () => {
  it('run prepared on the database and built with the values inside a transaction, with one answer', async () => {
    const [ann] = await t.db.insert(authors).values({ email: 'ann@example.com' }).returning();
    const [note] = await t.db.insert(notesTable).values({ authorId: ann!.id, body: 'draft' }).returning();
    const calls: unknown[] = [];
    const byEmail = hotQuery(
      t.db,
      'hot_authors_by_email',
      (executor, { email }: Bindable<{ email: string }>) => {
        calls.push(email);
        return executor.select().from(authors).where(eq(authors.email, email));
      },
    );
    const update = hotUpdate(
      t.db,
      'hot_notes_update',
      (executor, { id }: Bindable<{ id: string }>, changes) =>
        executor.update(notesTable).set(changes).where(eq(notesTable.id, id)).returning(),
    );
    // Built once with placeholders, at creation; on the database every call reuses that statement.
    expect(calls).toEqual([sql.placeholder('email')]);
    expect(await byEmail({ email: 'ann@example.com' })).toEqual([ann]);
    expect(await update({ id: note!.id }, { stars: 4 })).toMatchObject([{ body: 'draft', stars: 4 }]);
    expect(calls).toHaveLength(1);
    await t.db.transaction(async (tx) => {
      expect(await byEmail({ email: 'ann@example.com' }, tx)).toEqual([ann]);
      expect(await update({ id: note!.id }, { body: 'final' }, tx)).toMatchObject([
        { body: 'final', stars: 4 },
      ]);
    });
    // Inside the transaction the query was built with the value itself.
    expect(calls).toEqual([sql.placeholder('email'), 'ann@example.com']);
  });
});

describe('prepareQuery on postgres.js', () => {
  const samples = pgTable('prepared_samples', {
    id: serial('id').primaryKey(),
    at: timestamp('at', { withTimezone: true, mode: 'string' }),
    when: timestamp('when', { withTimezone: true }),
    day: date('day', { mode: 'date' }),
    amount: numeric('amount'),
    big: bigint('big', { mode: 'bigint' }),
    doc: jsonb('doc'),
    tags: text('tags').array(),
    flag: boolean('flag'),
  });

  it("answers what Drizzle's own execute answers, rows and errors, for every shape a repository prepares", async () => {
    await t.db.execute(sql`create table prepared_samples (id serial primary key, at timestamptz, "when" timestamptz,
      day date, amount numeric, big bigint, doc jsonb, tags text[], flag boolean)`);
    await t.db.insert(samples).values([
      {
        at: '2026-11-22 07:34:35.123456+00',
        when: new Date('2026-11-22T07:34:35.123Z'),
        day: new Date('2026-11-22'),
        amount: '12.50',
        big: 9007199254740993n,
        doc: { a: [1, 'two', null] },
        tags: ['x', 'y'],
        flag: true,
      },
      {},
    ]);
    const { placeholder } = sql;
    // Each shape prepares to its own row type; the comparison only needs what prepareQuery takes.
    const shapes: Record<string, { prepare(name: string): PreparedQuery<unknown> }> = {
      all: t.db.select().from(samples).orderBy(samples.id),
      byId: t.db
        .select()
        .from(samples)
        .where(eq(samples.id, placeholder('id'))),
      columns: t.db
        .select({ id: samples.id, doc: samples.doc, n: sql<number>`${samples.id} * 2`.mapWith(Number) })
        .from(samples)
        .limit(placeholder('limit')),
      count: t.db.select({ value: count() }).from(samples),
      update: t.db
        .update(samples)
        .set({ flag: sql`${placeholder('flag')}` })
        .where(eq(samples.id, placeholder('id')))
        .returning(),
      joined: t.db.select().from(samples).leftJoin(authors, sql`false`),
    };
    const values = { id: 1, limit: 5, flag: false };
    for (const [name, query] of Object.entries(shapes)) {
      const drizzles = await query.prepare(`drizzle_${name}`).execute(values);
      const ours = await prepareQuery(t.db, `ours_${name}`, query).execute(values);
      expect(ours, name).toEqual(drizzles);
    }
    const failing = t.db
      .select()
      .from(samples)
      .where(eq(samples.id, placeholder('id')));
    const [drizzleError, ourError] = await Promise.all([
      failing
        .prepare('failing_drizzle')
        .execute({ id: 'not a number' })
        .catch((error: unknown) => error),
      prepareQuery(t.db, 'failing_ours', failing)
        .execute({ id: 'not a number' })
        .catch((error: unknown) => error),
    ]);
    expect(ourError).toBeInstanceOf(DrizzleQueryError);
    expect(String(ourError)).toBe(String(drizzleError));
    expect(databaseErrorOf(ourError)?.code).toBe('22P02');
    await expect(prepareQuery(t.db, 'missing', shapes.byId!).execute({})).rejects.toThrow(/placeholder "id"/);
  });

  it.skipIf(testBackend !== 'postgres')(
    "skips Drizzle's execute wrapper for a flat query, not for a join",
    () => {
      const flat = prepareQuery(t.db, 'flat', t.db.select().from(authors));
      const joined = prepareQuery(
        t.db,
        'joined',
        t.db.select().from(notesTable).innerJoin(authors, eq(authors.id, notesTable.authorId)),
      );
      expect(flat).not.toBeInstanceOf(PostgresJsPreparedQuery);
      expect(joined).toBeInstanceOf(PostgresJsPreparedQuery);
    },
  );
});
