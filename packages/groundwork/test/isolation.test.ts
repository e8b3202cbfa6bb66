/**
 * The harness's isolation promise, on both backends: every test starts from the same migrated database,
 * whatever the test before it wrote, advanced or changed. The tests run in order and each checks what its
 * predecessor left behind.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { executeRows } from '../src/database/rows.ts';
import { setupTestApp } from '../src/testing/index.ts';
import tallies from './support/tallies/src/app.ts';

const t = setupTestApp(tallies);

/** Tables, columns, constraints, indexes and sequences, as text: what "the same schema" means here. */
async function schemaShape(): Promise<string[]> {
  const rows = await executeRows<{ item: string }>(
    t.db,
    sql`select format('column %s.%s %s %s %s', table_name, column_name, data_type, is_nullable, column_default) as item
          from information_schema.columns where table_schema = 'public'
        union all
        select format('constraint %s %s', conname, pg_get_constraintdef(oid)) from pg_constraint
         where connamespace = 'public'::regnamespace
        union all
        select format('index %s', indexdef) from pg_indexes where schemaname = 'public'
        union all
        select format('relation %s %s', relkind, relname) from pg_class
         where relnamespace = 'public'::regnamespace
        order by 1`,
  );
  return rows.map((row) => row.item);
}

/** Every table's row count, the migrations' bookkeeping included. */
async function rowCounts(): Promise<Record<string, number>> {
  const tables = await executeRows<{ name: string }>(
    t.db,
    sql`select tablename as name from pg_tables where schemaname = 'public' order by 1`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await executeRows<{ n: number }>(t.db, sql.raw(`select count(*)::int as n from "${name}"`));
    counts[name] = Number(row!.n);
  }
  return counts;
}

let migrated: { shape: string[]; counts: Record<string, number> };

describe('each test starts from the migrated database', () => {
  it('records the migrated state, then dirties every table and advances every sequence', async () => {
    migrated = { shape: await schemaShape(), counts: await rowCounts() };
    // A server keeps rate-limit counters in a table the template carries (PGlite keeps them in memory).
    expect(Object.keys(migrated.counts).sort()).toEqual([
      'counters',
      ...(process.env.TEST_DATABASE_URL ? ['groundwork_rate_limits'] : []),
      'schema_migrations',
      'schema_migrations_metadata',
      'ticks',
    ]);
    expect(migrated.counts).toMatchObject({ counters: 0, ticks: 0 });

    // Through the app, in its own transaction, and directly.
    const created = await t.server.inject({ method: 'POST', url: '/counters', payload: { label: 'a' } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ id: 1, tick: 1, ticket: 1 });
    await t.server.inject({ method: 'POST', url: '/counters', payload: { label: 'b' } });
    await executeRows(t.db, sql`select nextval('ticket_numbers')`);
    // A write the app rolled back still advances its sequences.
    await expect(
      t.db.transaction(async (tx) => {
        await executeRows(tx, sql`insert into counters (label) values ('rolled back')`);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    if (process.env.TEST_DATABASE_URL) {
      await executeRows(
        t.db,
        sql`insert into groundwork_rate_limits (key, window_ends, count) values ('login:a', now(), 1)`,
      );
    }
    const counts = await rowCounts();
    for (const [table, count] of Object.entries(counts)) expect(count, table).toBeGreaterThan(0);
  });

  it('sees none of it: empty tables, sequences from the start, the same schema', async () => {
    expect(await rowCounts()).toEqual(migrated.counts);
    expect(await schemaShape()).toEqual(migrated.shape);
    const created = await t.server.inject({ method: 'POST', url: '/counters', payload: { label: 'a' } });
    expect(created.json()).toEqual({ id: 1, tick: 1, ticket: 1 });
  });

  it('changes the schema and a sequence', async () => {
    await executeRows(t.db, sql`alter table counters add column secret text`);
    await executeRows(t.db, sql`create table leftovers (id int)`);
    await executeRows(t.db, sql`insert into leftovers values (1)`);
    await executeRows(t.db, sql`alter sequence ticket_numbers restart with 500`);
    expect(await schemaShape()).not.toEqual(migrated.shape);
  });

  it('sees the migrated schema again', async () => {
    expect(await schemaShape()).toEqual(migrated.shape);
    expect(await rowCounts()).toEqual(migrated.counts);
    const created = await t.server.inject({ method: 'POST', url: '/counters', payload: { label: 'a' } });
    expect(created.json()).toEqual({ id: 1, tick: 1, ticket: 1 });
  });

  it('drops a constraint (DDL that only removes catalog rows)', async () => {
    await executeRows(t.db, sql`alter table counters drop constraint counters_label_unique`);
    expect(await schemaShape()).not.toEqual(migrated.shape);
  });

  it('sees the constraint again', async () => {
    expect(await schemaShape()).toEqual(migrated.shape);
  });

  it("empties the migrations' bookkeeping", async () => {
    await executeRows(t.db, sql`delete from schema_migrations`);
    await executeRows(t.db, sql`delete from schema_migrations_metadata`);
  });

  it('sees the bookkeeping as migrated, and the app ready', async () => {
    expect(await rowCounts()).toEqual(migrated.counts);
    expect((await t.server.inject({ url: '/health/ready' })).statusCode).toBe(200);
  });
});
