/**
 * adapters/drizzle-prepared.ts runs Drizzle's prepared queries through fields Drizzle keeps private. This file
 * pins the version it was written for and checks, without a server, that those fields are still there and
 * that Drizzle's own execute still does what the adapter repeats. When it fails after an upgrade, re-read
 * drizzle-orm's postgres-js/session.js (PostgresJsPreparedQuery: constructor and execute) against the adapter.
 */
import { count, DrizzleQueryError, eq, type Logger, sql } from 'drizzle-orm';
import { pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/postgres-js';
import { PostgresJsPreparedQuery } from 'drizzle-orm/postgres-js/session';
import { npmVersion } from 'drizzle-orm/version';
import type postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { directExecution } from '../../src/adapters/drizzle-prepared.ts';

const WRITTEN_FOR = '0.45.4';
const RECHECK = 'adapters/drizzle-prepared.ts reads PostgresJsPreparedQuery internals: re-check them';

const notes = pgTable('notes', {
  id: serial('id').primaryKey(),
  body: text('body').notNull(),
  at: timestamp('at', { withTimezone: true }),
});

interface Call {
  query: string;
  params: unknown[];
  options: unknown;
  read: 'rows' | 'values';
}

/** What Drizzle is given for a client: it records each statement and answers `rows` (or fails with `failure`). */
function recordingDatabase(rows: unknown[][], failure?: Error) {
  const calls: Call[] = [];
  const logged: string[] = [];
  const answer = (call: Call) => {
    calls.push(call);
    return failure ? Promise.reject(failure) : Promise.resolve(rows);
  };
  const client = {
    options: { parsers: {}, serializers: {} },
    unsafe: (query: string, params: unknown[], options: unknown) => ({
      // biome-ignore lint/suspicious/noThenProperty: stands in for postgres.js's awaitable PendingQuery.
      then: (resolve: (value: unknown) => unknown, reject: (error: unknown) => unknown) =>
        answer({ query, params, options, read: 'rows' }).then(resolve, reject),
      values: () => answer({ query, params, options, read: 'values' }),
    }),
  };
  const logger: Logger = { logQuery: (query) => logged.push(query) };
  const db = drizzle(client as unknown as postgres.Sql, { logger });
  return { db, calls, logged };
}

describe(`adapters/drizzle-prepared.ts, written for drizzle-orm ${WRITTEN_FOR}`, () => {
  it('runs on the drizzle-orm version it was written for', () => {
    expect(npmVersion, `drizzle-orm is ${npmVersion}, not ${WRITTEN_FOR}: ${RECHECK}`).toBe(WRITTEN_FOR);
  });

  it("finds the fields it reads on Drizzle's prepared query", () => {
    const { db } = recordingDatabase([]);
    const prepared = db
      .select({ id: notes.id, total: count() })
      .from(notes)
      .where(eq(notes.id, sql.placeholder('id')))
      .groupBy(notes.id)
      .prepare('by_id');
    expect(prepared, RECHECK).toBeInstanceOf(PostgresJsPreparedQuery);
    const internals = prepared as unknown as Record<string, unknown>;
    expect(internals.queryString, RECHECK).toMatch(
      /^select "id", count\(\*\) from "notes" where "notes"."id" = \$1/,
    );
    expect(internals.params, RECHECK).toHaveLength(1);
    expect(internals.prepare, RECHECK).toBe(true);
    expect(typeof (internals.logger as Logger | undefined)?.logQuery, RECHECK).toBe('function');
    expect(typeof (internals.client as { unsafe?: unknown } | undefined)?.unsafe, RECHECK).toBe('function');
    expect(internals.customResultMapper, RECHECK).toBeUndefined();
    const fields = internals.fields as { path: string[]; field: unknown }[];
    expect(
      fields.map((field) => field.path),
      RECHECK,
    ).toEqual([['id'], ['total']]);
    // count()'s decoder sits on the SQL object, where the adapter looks for it.
    expect(
      typeof (fields[1]!.field as { decoder?: { mapFromDriverValue?: unknown } }).decoder?.mapFromDriverValue,
    ).toBe('function');
    expect(directExecution(prepared), RECHECK).toBeDefined();
  });

  it("sends what Drizzle's own execute sends and answers the rows it answers", async () => {
    const rows = [
      [1, 'first', '2026-11-22 07:34:35.123+00'],
      [2, 'second', null],
    ];
    const drizzles = recordingDatabase(rows);
    const ours = recordingDatabase(rows);
    const query = (db: ReturnType<typeof recordingDatabase>['db']) =>
      db
        .select()
        .from(notes)
        .where(eq(notes.body, sql.placeholder('body')))
        .prepare('by_body');
    const expected = await query(drizzles.db).execute({ body: 'first' });
    const adapted = directExecution(query(ours.db));
    expect(adapted, RECHECK).toBeDefined();
    expect(await adapted!.execute({ body: 'first' })).toEqual(expected);
    expect(expected[0]!.at).toBeInstanceOf(Date);
    expect(ours.calls, RECHECK).toEqual(drizzles.calls);
    expect(drizzles.calls).toEqual([
      {
        query: expect.stringContaining('where "notes"."body" = $1'),
        params: ['first'],
        options: { prepare: true },
        read: 'values',
      },
    ]);
    expect(ours.logged).toEqual(drizzles.logged);
  });

  it('fails as Drizzle fails', async () => {
    const failure = Object.assign(new Error('invalid input syntax for type integer'), { code: '22P02' });
    const query = (db: ReturnType<typeof recordingDatabase>['db']) =>
      db
        .select()
        .from(notes)
        .where(eq(notes.id, sql.placeholder('id')))
        .prepare('failing');
    const drizzleError = await query(recordingDatabase([], failure).db)
      .execute({ id: 'x' })
      .catch((error: unknown) => error);
    const ourError = await directExecution(query(recordingDatabase([], failure).db))!
      .execute({ id: 'x' })
      .catch((error: unknown) => error);
    expect(drizzleError, RECHECK).toBeInstanceOf(DrizzleQueryError);
    expect(ourError).toBeInstanceOf(DrizzleQueryError);
    expect(String(ourError)).toBe(String(drizzleError));
    expect((ourError as DrizzleQueryError).cause).toBe(failure);
  });

  it('leaves a join to Drizzle', () => {
    const { db } = recordingDatabase([]);
    const joined = db.select().from(notes).leftJoin(notes, sql`false`).prepare('joined');
    expect(directExecution(joined)).toBeUndefined();
  });
});
