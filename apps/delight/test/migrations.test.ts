import { checkFolder, executeRows, readState, upgrade } from 'groundwork-pg';
import { catalogObjects, createTestDatabase, describeMigrations, testBackend } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { needsVector, vector } from './support.ts';

// The shared contract: head without drift, every step down and up, base leaves nothing (the extension too).
describe.skipIf(!vector.available)(needsVector('reversibility contract'), () => {
  describeMigrations(app);
});

// describeMigrations' folder half needs no database; keep it when the contract above is skipped.
it.runIf(!vector.available)(
  'every migration is reversible and schema.ts is captured (folder only)',
  async () => {
    expect(await checkFolder(app.migrationsDir, app.schema)).toEqual([]);
  },
);

/**
 * Where pgvector is missing, the first migration must stop before touching anything and say how to get it.
 * The real server here lacks the package; on PGlite the same situation is a database opened without the
 * pgvector extension bundle, so this path is exercised on both backends.
 */
const missingVector = testBackend === 'pglite' || !vector.available;
describe.skipIf(!missingVector)(
  missingVector ? 'without pgvector' : 'without pgvector (skipped: this server has pgvector installed)',
  () => {
    it('fails the upgrade cleanly: a message naming the extension and the package, nothing applied', async () => {
      const database = await createTestDatabase({ ...app, extensions: [] }, { migrate: false });
      try {
        const before = await catalogObjects(database.handle);
        const error = await upgrade(database.handle, app.migrationsDir).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(error?.message).toMatch(/enable_pgvector\/up\.sql: statement 1 of 2 failed/);
        expect(error?.message).toMatch(
          /extension "vector" \(pgvector\) is not installed on this PostgreSQL \d+ server/,
        );
        expect(error?.message).toMatch(/install the OS package postgresql-\d+-pgvector/);
        expect(error?.message).toMatch(/provider that ships pgvector/);
        expect(error?.message).toMatch(/Rolled back/);
        // Nothing half-applied: no tables, functions or extension, and no bookkeeping row.
        expect(await catalogObjects(database.handle)).toEqual(before);
        expect((await readState(database.handle, app.migrationsDir)).applied).toEqual([]);
        expect(
          await executeRows(
            database.handle.db,
            `select 1 from pg_tables where schemaname = 'public' and tablename in ('users', 'user_preferences')`,
          ),
        ).toEqual([]);
      } finally {
        await database.dispose();
      }
    });
  },
);
