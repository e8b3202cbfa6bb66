import { type AppServer, executeRows, openDatabase } from 'groundwork-pg';
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

/** The foundation's own routes, outside the app's: docs and the liveness and readiness probes. */
const FOUNDATION_ROUTE = /^\/(docs\b|health\/(live|ready)$)/;

/**
 * `METHOD /path` of every app route the server registered (HEAD copies of GETs left out), read from Fastify's
 * route tree, so a test listing the routes by hand fails when a new one appears.
 */
export function registeredRoutes(server: AppServer): string[] {
  const routes: string[] = [];
  const path: string[] = [];
  for (const line of server.printRoutes({ commonPrefix: false }).split('\n')) {
    // `│   └── /:id (DELETE)`: four characters of indent per level, then a segment and its methods.
    const node = /^([│ ]*)[├└]── (\S+)(?: \((.+)\))?$/.exec(line);
    if (!node) continue;
    path.length = node[1]!.length / 4;
    path.push(node[2]!);
    const url = path.join('');
    if (FOUNDATION_ROUTE.test(url)) continue;
    for (const method of node[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push(`${method} ${url}`);
  }
  return routes;
}
