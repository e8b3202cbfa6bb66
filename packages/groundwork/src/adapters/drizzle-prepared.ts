import { Column, DrizzleQueryError, fillPlaceholders, is, type Logger, SQL } from 'drizzle-orm';
import { PostgresJsPreparedQuery } from 'drizzle-orm/postgres-js/session';

/**
 * Relies on: the fields drizzle-orm 0.45's `PostgresJsPreparedQuery` keeps (private in its types), each
 * column's `mapFromDriverValue`, and the way its `execute` runs a statement with fields
 * (`client.unsafe(query, params, { prepare }).values()`, then one decoder per column).
 *
 * Why it is worth it: Drizzle's `execute` wraps each call in tracing spans, a cache check and three async
 * layers, and maps each row with entity checks per column; on a repository's hot query that is a visible
 * share of a request's CPU (docs/performance.md). For a query whose columns map to flat keys (a select of a
 * table or of columns, a returning), the same statement goes to the same client (so the pool gate, reconnects
 * and replica routing stay), errors are wrapped as Drizzle wraps them, and each column's decoder is looked up
 * once. Anything else (relational queries, joins, fields not kept where expected) is left to Drizzle.
 *
 * Written for drizzle-orm 0.45.4: test/adapters/drizzle-prepared.test.ts pins that version and checks the
 * fields and Drizzle's own execution path; test/prepared.test.ts compares the results on a server.
 */

/** What a prepared query runs: Drizzle's, or the leaner one below. */
interface Executable<TResult> {
  execute(placeholderValues?: Record<string, unknown>): Promise<TResult>;
}

type Decoder = { mapFromDriverValue(value: unknown): unknown };

/** The part of the postgres.js client Drizzle keeps on a prepared query that this adapter calls. */
interface ValuesClient {
  unsafe(
    query: string,
    params: unknown[],
    options: { prepare?: boolean },
  ): { values(): PromiseLike<unknown[][]> };
}

/** What drizzle-orm 0.45's PostgresJsPreparedQuery keeps (private in its types). */
interface PostgresJsInternals {
  client?: ValuesClient;
  queryString?: string;
  params?: unknown[];
  logger?: Logger;
  fields?: { path: string[]; field: unknown }[];
  prepare?: boolean;
  customResultMapper?: unknown;
}

/** A leaner `execute` for Drizzle's prepared query on postgres.js, or undefined where Drizzle's own is needed. */
export function directExecution<TResult>(prepared: Executable<TResult>): Executable<TResult> | undefined {
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
