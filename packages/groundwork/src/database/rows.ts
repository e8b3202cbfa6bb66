import type { SQLWrapper } from 'drizzle-orm';
import type { Executor } from './open.ts';

/** `db.execute` returns an array on postgres.js and `{ rows }` on PGlite; callers want the rows. */
export async function executeRows<T extends Record<string, unknown>>(
  db: Executor,
  query: SQLWrapper | string,
): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}
