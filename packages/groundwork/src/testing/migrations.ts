import { describe, expect, it } from 'vitest';
import type { AppDefinition } from '../app.ts';
import type { DatabaseHandle } from '../database/open.ts';
import { checkDatabase, checkFolder } from '../migrations/check.ts';
import { readMigrations } from '../migrations/folder.ts';
import { downgrade, MIGRATIONS_TABLE, readState, upgrade } from '../migrations/runner.ts';
import { createTestDatabase } from './index.ts';

/** Everything of the app's in the catalog: tables, views, sequences, indexes, types, functions, triggers. */
export async function catalogObjects(handle: DatabaseHandle<any>): Promise<string[]> {
  const session = await handle.session();
  try {
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
  } finally {
    await session.release();
  }
}

/**
 * The shared migration contract every app runs on both backends: head is reachable and drift-free, base
 * leaves nothing of the app behind, and each step down and up again round-trips without drift.
 */
export function describeMigrations(app: AppDefinition<any>): void {
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
    });
  });
}
