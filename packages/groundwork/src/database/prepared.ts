import { type SQL, sql } from 'drizzle-orm';
import { directExecution } from '../adapters/drizzle-prepared.ts';
import type { Database } from './open.ts';

/** What a repository keeps of a prepared query: Drizzle's, or the leaner one of adapters/drizzle-prepared.ts. */
export interface PreparedQuery<TResult> {
  execute(placeholderValues?: Record<string, unknown>): Promise<TResult>;
}

/**
 * `query.prepare(name)` for a repository's hot query: Drizzle then skips building its SQL per call. With a
 * name Drizzle asks postgres.js for a named statement, kept per connection; when the connection does not
 * prepare statements (postgres.js `prepare: false`, as behind PgBouncer in transaction mode) the name is
 * left out and the query runs unnamed. One code path for both; PGlite ignores the name.
 */
export function prepareQuery<TResult>(
  db: Database<any>,
  name: string,
  query: { prepare(name: string): PreparedQuery<TResult> },
): PreparedQuery<TResult> {
  const client = (db as { $client?: { options?: { prepare?: boolean } } }).$client;
  const prepares = client?.options?.prepare !== false;
  // Typed as required, but Drizzle reads a missing name as "do not prepare".
  const prepared = (query.prepare as (name?: string) => PreparedQuery<TResult>).call(
    query,
    prepares ? name : undefined,
  );
  return directExecution(prepared) ?? prepared;
}

/**
 * A query prepared once per set of keys it is called with, on first use: an update of only the columns a
 * PATCH names. `build` gets the sorted keys (each a placeholder of its own name is the usual shape, see
 * `placeholders`); the keys must come from a fixed set (a schema's fields), which bounds the statements.
 * Like any prepared update, a column's `$onUpdate` value would be worked out once, when it is built: a
 * table that keeps `updated_at` current does it with a trigger.
 */
export function preparePerKeys<TResult>(
  db: Database<any>,
  name: string,
  build: (keys: string[]) => { prepare(name: string): PreparedQuery<TResult> },
): (keys: string[]) => PreparedQuery<TResult> {
  const prepared = new Map<string, PreparedQuery<TResult>>();
  return (keys) => {
    const sorted = keys.toSorted();
    const id = sorted.join();
    let query = prepared.get(id);
    if (!query) {
      query = prepareQuery(db, `${name}_${sorted.join('_')}`, build(sorted));
      prepared.set(id, query);
    }
    return query;
  };
}

/**
 * `{ key: placeholder('key') }` for each key, as `set()` takes them: wrapped in sql``, which set() would
 * otherwise take for the value itself.
 */
export function placeholders(keys: string[]): Record<string, SQL> {
  return Object.fromEntries(keys.map((key) => [key, sql`${sql.placeholder(key)}`]));
}
