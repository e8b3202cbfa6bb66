import type { Database } from './open.ts';

/**
 * `query.prepare(name)` for a repository's hot query: Drizzle then skips building its SQL per call. With a
 * name Drizzle asks postgres.js for a named statement, kept per connection; when the connection does not
 * prepare statements (postgres.js `prepare: false`, as behind PgBouncer in transaction mode) the name is
 * left out and the query runs unnamed. One code path for both; PGlite ignores the name.
 */
export function prepareQuery<TPrepared>(
  db: Database<any>,
  name: string,
  query: { prepare(name: string): TPrepared },
): TPrepared {
  const client = (db as { $client?: { options?: { prepare?: boolean } } }).$client;
  const prepares = client?.options?.prepare !== false;
  // Typed as required, but Drizzle reads a missing name as "do not prepare".
  return (query.prepare as (name?: string) => TPrepared).call(query, prepares ? name : undefined);
}
