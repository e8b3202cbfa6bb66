import { executeRows, openDatabase } from 'groundwork-pg';
import { testBackend, testSettings } from 'groundwork-pg/testing';
import app from '../src/app.ts';

export interface VectorAvailability {
  available: boolean;
  /** Why tests that need pgvector are skipped; empty when they run. */
  reason: string;
}

/**
 * Whether the test backend can create the vector extension, asked once per file. PGlite always can (the app
 * loads @electric-sql/pglite-pgvector); a server only when its pgvector package is installed.
 */
async function probeVector(): Promise<VectorAvailability> {
  const url = process.env.TEST_DATABASE_URL;
  if (testBackend === 'pglite' || !url) return { available: true, reason: '' };
  const handle = await openDatabase(testSettings(app, {}, url), { schema: {} });
  try {
    const rows = await executeRows(handle.db, `select 1 from pg_available_extensions where name = 'vector'`);
    if (rows.length > 0) return { available: true, reason: '' };
    const [server] = await executeRows<{ major: number }>(
      handle.db,
      `select current_setting('server_version_num')::int / 10000 as major`,
    );
    return {
      available: false,
      reason:
        `skipped: the PostgreSQL ${server?.major} server at TEST_DATABASE_URL has no pgvector ` +
        `(install postgresql-${server?.major}-pgvector); delight's first migration needs it`,
    };
  } finally {
    await handle.close();
  }
}

export const vector = await probeVector();
if (!vector.available) console.warn(`[delight] ${vector.reason}`);

/** A describe title that carries the skip reason into the report when the block is skipped. */
export const needsVector = (title: string) => (vector.available ? title : `${title} (${vector.reason})`);
