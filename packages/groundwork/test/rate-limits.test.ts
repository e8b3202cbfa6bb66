/**
 * Rate-limit counters (auth/rate-limits.ts): the in-memory store of one process and the UNLOGGED table that
 * workers and instances share, run against the same expectations on PGlite and on the test server.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CounterStore, databaseCounters, memoryCounters, windowLimit } from '../src/auth/rate-limits.ts';
import { executeRows } from '../src/database/rows.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';

let database: TestDatabase<any>;
beforeAll(async () => {
  database = await createTestDatabase(notes, { migrate: false });
}, 60_000);
afterAll(() => database?.dispose());

const stores: [string, () => CounterStore][] = [
  ['memory', memoryCounters],
  ['database', () => databaseCounters(database.handle.db)],
];

describe.each(stores)('%s counters', (_name, makeStore) => {
  it('counts per key in a window, refuses past the limit with the seconds left, and clears', async () => {
    const store = makeStore();
    const limit = windowLimit('test', 3, 60_000);
    const hits = [];
    for (let i = 0; i < 4; i++) hits.push(await limit.hit(store, 'a'));
    expect(hits.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(hits[3]).toBeGreaterThan(55);
    expect(hits[3]).toBeLessThanOrEqual(60);
    expect(await limit.hit(store, 'b')).toBeUndefined();
    expect(await limit.reached(store, 'a')).toBeGreaterThan(0);
    await limit.clear(store, 'a');
    expect(await limit.reached(store, 'a')).toBeUndefined();
    expect(await limit.hit(store, 'a')).toBeUndefined();
  });

  it('starts a new window once the old one ended', async () => {
    const store = makeStore();
    const limit = windowLimit('short', 1, 1_000);
    expect(await limit.hit(store, 'k')).toBeUndefined();
    expect(await limit.hit(store, 'k')).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await limit.reached(store, 'k')).toBeUndefined();
    expect(await limit.hit(store, 'k')).toBeUndefined();
  });

  it('says when a count reaches the limit, once', async () => {
    const store = makeStore();
    const limit = windowLimit('reach', 2, 60_000);
    expect([
      await limit.count(store, 'x'),
      await limit.count(store, 'x'),
      await limit.count(store, 'x'),
    ]).toEqual([false, true, false]);
  });
});

describe('database counters', () => {
  it('live in an UNLOGGED table, one statement per check, shared by every store on the database', async () => {
    const first = databaseCounters(database.handle.db);
    const second = databaseCounters(database.handle.db);
    const limit = windowLimit('shared', 2, 60_000);
    await limit.hit(first, 'ip');
    await limit.hit(second, 'ip');
    expect(await limit.hit(first, 'ip')).toBeGreaterThan(0);
    const [table] = await executeRows<{ persistence: string }>(
      database.handle.db,
      sql`select relpersistence as persistence from pg_class where relname = 'groundwork_rate_limits'`,
    );
    expect(table).toEqual({ persistence: 'u' });
  });
});
