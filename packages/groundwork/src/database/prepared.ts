import { Column, DrizzleQueryError, fillPlaceholders, is, type Logger, SQL, sql } from 'drizzle-orm';
import { PostgresJsPreparedQuery } from 'drizzle-orm/postgres-js/session';
import type { Database } from './open.ts';
import type { DrizzleClient } from './postgres.ts';

/** What a repository keeps of a prepared query: Drizzle's, or the leaner one below. */
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

type Decoder = { mapFromDriverValue(value: unknown): unknown };

/** What Drizzle 0.45's PostgresJsPreparedQuery keeps (private in its types). */
interface PostgresJsInternals {
  client?: DrizzleClient;
  queryString?: string;
  params?: unknown[];
  logger?: Logger;
  fields?: { path: string[]; field: unknown }[];
  prepare?: boolean;
  customResultMapper?: unknown;
}

/**
 * Drizzle's `execute` on postgres.js wraps each call in tracing spans, a cache check and three async layers,
 * and maps rows with entity checks per column per row: ~2.5 µs for one row, ~15 µs for twenty. For a query
 * whose columns map to flat keys (a select of a table or of columns, a returning), the same statement goes to
 * the same client (so the pool gate, reconnects and replica routing stay), its errors are wrapped as Drizzle
 * wraps them, and each column's decoder is looked up once. Anything else (relational queries, joins, fields
 * this version does not keep where expected) is left to Drizzle. test/prepared.test.ts compares the two.
 */
function directExecution<TResult>(prepared: PreparedQuery<TResult>): PreparedQuery<TResult> | undefined {
  if (!is(prepared, PostgresJsPreparedQuery)) return undefined;
  const { client, queryString, params, logger, fields, prepare, customResultMapper } =
    prepared as unknown as PostgresJsInternals;
  if (!client || queryString === undefined || !params || !logger || !fields || customResultMapper) {
    return undefined;
  }
  const keys: string[] = [];
  const decoders: Decoder[] = [];
  for (const { path, field } of fields) {
    // A column decodes its own values; an sql`` field (count()) carries its decoder.
    const decoder = is(field, Column)
      ? field
      : is(field, SQL)
        ? (field as unknown as { decoder: Decoder }).decoder
        : undefined;
    if (path.length !== 1 || !decoder) return undefined;
    keys.push(path[0]!);
    decoders.push(decoder);
  }
  return {
    async execute(placeholderValues = {}) {
      const values = fillPlaceholders(params, placeholderValues);
      logger.logQuery(queryString, values);
      let rows: unknown[][];
      try {
        rows = await client.unsafe(queryString, values, { prepare }).values();
      } catch (error) {
        throw new DrizzleQueryError(queryString, values, error as Error);
      }
      return rows.map((row) => {
        const result: Record<string, unknown> = {};
        for (let i = 0; i < keys.length; i++) {
          const value = row[i];
          result[keys[i]!] = value === null ? null : decoders[i]!.mapFromDriverValue(value);
        }
        return result;
      }) as TResult;
    },
  };
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
