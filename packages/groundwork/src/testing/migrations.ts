import { type SQLWrapper, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { AppDefinition } from '../app.ts';
import type { DatabaseHandle, Executor } from '../database/open.ts';
import { executeRows } from '../database/rows.ts';
import { withSession } from '../database/sessions.ts';
import { MIGRATIONS_TABLE } from '../migrations/bookkeeping.ts';
import { checkDatabase, checkFolder } from '../migrations/check.ts';
import { readMigrations } from '../migrations/folder.ts';
import { readState } from '../migrations/plan.ts';
import { downgrade, upgrade } from '../migrations/runner.ts';
import { createTestDatabase } from './databases.ts';

/** Everything of the app's in the catalog: tables, views, sequences, indexes, types, functions, triggers. */
export async function catalogObjects(handle: DatabaseHandle): Promise<string[]> {
  return withSession(handle, async (session) => {
    const rows = await session.query<{ object: string }>(
      `select 'relation ' || c.relkind::text || ' ' || c.relname as object from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
        where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%'
          and c.relname not like '${MIGRATIONS_TABLE}%'
          and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')
       union all
       select 'type ' || t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace
        where n.nspname = 'public' and t.typtype in ('e', 'd', 'c') and t.typrelid = 0
          and not exists (select 1 from pg_depend d where d.objid = t.oid and d.deptype = 'e')
       union all
       select 'function ' || p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
       union all
       select 'trigger ' || tgname from pg_trigger where not tgisinternal
       union all
       select 'extension ' || extname from pg_extension where extname <> 'plpgsql'
       order by 1`,
    );
    return rows.map((row) => row.object);
  });
}

/**
 * The shared migration contract every app runs on both backends: head is reachable and drift-free, base
 * leaves nothing of the app behind, and each step down and up again round-trips without drift.
 */
export function describeMigrations(app: AppDefinition): void {
  describe(`${app.name} migrations`, () => {
    it('has every migration reversible and schema.ts captured', async () => {
      expect(readMigrations(app.migrationsDir).length).toBeGreaterThan(0);
      expect(await checkFolder(app.migrationsDir, app.schema)).toEqual([]);
    });

    it('upgrades to head without drift, downgrades to an empty database, and round-trips every step', async () => {
      const database = await createTestDatabase(app, { migrate: false });
      const { handle } = database;
      const shadow = { settings: database.settings, extensions: app.extensions };
      try {
        const migrations = readMigrations(app.migrationsDir);
        const empty = await catalogObjects(handle);
        const up = await upgrade(handle, app.migrationsDir);
        expect(up.to).toBe(migrations.at(-1)!.id);
        expect(await checkDatabase(handle, app.migrationsDir, shadow)).toEqual([]);
        const atHead = await catalogObjects(handle);

        for (let step = 0; step < migrations.length; step++) {
          await downgrade(handle, app.migrationsDir, `-${step + 1}`);
          await upgrade(handle, app.migrationsDir);
          expect(await catalogObjects(handle)).toEqual(atHead);
        }
        expect(await checkDatabase(handle, app.migrationsDir, shadow)).toEqual([]);

        await downgrade(handle, app.migrationsDir, 'base');
        expect((await readState(handle, app.migrationsDir)).applied).toEqual([]);
        expect(await catalogObjects(handle)).toEqual(empty);
      } finally {
        await database.dispose();
      }
      // Two drift checks each build a shadow database and load drizzle-kit: slow on a busy machine.
    }, 120_000);
  });
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/**
 * Asserts that PostgreSQL answers `query` (a Drizzle query) from an index and never scans a table
 * sequentially, so a Sort, if any, sorts only rows an index selected, never the whole table. Statistics are
 * refreshed first, so seed the rows before. Returns the plan.
 */
export async function expectIndexScan(db: Executor, query: SQLWrapper): Promise<PlanNode> {
  await db.execute(sql`analyze`);
  const [row] = await executeRows<{ 'QUERY PLAN': unknown }>(
    db,
    sql`explain (format json) ${query.getSQL()}`,
  );
  const raw = row!['QUERY PLAN'];
  const plan = ((typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[])[0]!.Plan;
  const text = JSON.stringify(plan, null, 1);
  const nodes = nodesOf(plan);
  expect(
    nodes.filter((n) => n['Node Type'] === 'Seq Scan'),
    text,
  ).toEqual([]);
  expect(
    nodes.some((n) => /^(Index|Index Only|Bitmap Index) Scan$/.test(n['Node Type'])),
    text,
  ).toBe(true);

  return plan;
}

/**
 * Wraps `db` so every `select()` query built through it is recorded: pass it as a repository method's
 * executor, then EXPLAIN exactly what the method ran (`expectIndexScan(db, recorded.queries[0])`).
 */
export function recordingExecutor<T extends Executor>(db: T): { executor: T; queries: SQLWrapper[] } {
  const queries: SQLWrapper[] = [];
  const executor = new Proxy(db, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'select') return value;
      return (...args: unknown[]) => {
        // select() returns a builder; its from() returns the query that the rest of the chain refines
        const builder = (value as (...a: unknown[]) => { from: (...a: unknown[]) => SQLWrapper }).apply(
          target,
          args,
        );
        const from = builder.from.bind(builder);
        builder.from = (...fromArgs: unknown[]) => {
          const query = from(...fromArgs);
          queries.push(query);
          return query;
        };
        return builder;
      };
    },
  });
  return { executor, queries };
}
