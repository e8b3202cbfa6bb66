/**
 * The seam between Drizzle and postgres.js: Drizzle gets a client that has only the members of
 * `DrizzleClient` (and query results that have only `then` and `values`), then runs every kind of statement
 * the apps use. If a Drizzle upgrade calls anything else on the client, this fails and names it.
 */
import { eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrizzleClient } from '../src/database/postgres.ts';
import { createServerTestDatabase, type TestDatabase, testBackend } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';
import * as schema from './support/notes/src/schema.ts';

/** Every member of DrizzleClient, checked exhaustive by the compiler. */
const CLIENT_MEMBERS = { options: true, unsafe: true, begin: true } satisfies Record<
  keyof DrizzleClient,
  true
>;
const RESULT_MEMBERS = new Set(['then', 'values']);

/** A proxy that throws, naming the member, on any property outside `allowed`. */
function only<T extends object>(target: T, allowed: Set<PropertyKey>, what: string): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (typeof property === 'string' && !allowed.has(property)) {
        throw new Error(`Drizzle read ${what}.${property}, which DrizzleClient does not declare`);
      }
      const value: unknown = Reflect.get(object, property, receiver);
      // Methods run on the real object, so its own internals are not counted as Drizzle's reads.
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

describe.skipIf(testBackend !== 'postgres')('the postgres.js client Drizzle is given', () => {
  let database: TestDatabase<typeof schema>;
  let client: postgres.Sql;
  let calls: string[];

  beforeAll(async () => {
    database = await createServerTestDatabase(notes);
    client = postgres(database.settings.databaseUrl!, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await client?.end();
    await database?.dispose();
  });

  const strictDatabase = () => {
    calls = [];
    const members: DrizzleClient = {
      options: client.options,
      unsafe: (query, params, options) => {
        calls.push('unsafe');
        const pending = client.unsafe(query, params as never[], options);
        return only(pending, RESULT_MEMBERS, 'unsafe(...)');
      },
      begin: (callback) => {
        calls.push('begin');
        return client.begin(callback);
      },
    };
    // drizzle() reads `constructor` to tell a config object from a client; that is all it may read besides.
    const strict = only(members, new Set([...Object.keys(CLIENT_MEMBERS), 'constructor']), 'client');
    return drizzle(strict as unknown as postgres.Sql, { schema });
  };

  it('serves inserts, selects, updates, deletes, raw SQL, prepared queries and nested transactions', async () => {
    const db = strictDatabase();
    const [author] = await db.insert(schema.authors).values({ email: 'ada@example.com' }).returning();
    expect(author).toMatchObject({ email: 'ada@example.com' });
    const [note] = await db
      .insert(schema.notes)
      .values({ authorId: author!.id, body: 'first', stars: 3 })
      .returning({ id: schema.notes.id });
    const byAuthor = db
      .select({ body: schema.notes.body })
      .from(schema.notes)
      .where(eq(schema.notes.authorId, sql.placeholder('author')))
      .prepare('notes_by_author');
    expect(await byAuthor.execute({ author: author!.id })).toEqual([{ body: 'first' }]);
    await db.update(schema.notes).set({ stars: 5 }).where(eq(schema.notes.id, note!.id));
    expect(await db.execute(sql`select stars from notes where id = ${note!.id}`)).toMatchObject([
      { stars: 5 },
    ]);
    await db.transaction(async (tx) => {
      await tx.insert(schema.notes).values({ authorId: author!.id, body: 'second' });
      await tx
        .transaction(async (nested) => {
          await nested.delete(schema.notes).where(eq(schema.notes.id, note!.id));
          nested.rollback();
        })
        .catch(() => {});
    });
    const bodies = (await db.select({ body: schema.notes.body }).from(schema.notes)).map((row) => row.body);
    expect(bodies.sort()).toEqual(['first', 'second']);
    expect(new Set(calls)).toEqual(new Set(['unsafe', 'begin']));
  });

  it('names the member when Drizzle reads one the interface lacks', () => {
    const strict = only({ options: {} }, new Set(['options']), 'client');
    expect(() => (strict as { reserve?: unknown }).reserve).toThrow(
      'Drizzle read client.reserve, which DrizzleClient does not declare',
    );
  });
});
