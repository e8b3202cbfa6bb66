import { type Placeholder, type SQL, sql } from 'drizzle-orm';
import { directExecution } from '../adapters/drizzle-prepared.ts';
import type { Caller, CallerGuard, Owns } from './callers.ts';
import type { Database, Executor } from './open.ts';

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

type Fields = Record<string, unknown>;

/** Each value, or the placeholder a prepared statement fills in at each call. */
export type Bindable<TValues> = { [K in keyof TValues]: TValues[K] | Placeholder };

/** A Drizzle query that can be prepared or run as it is. */
export interface HotQueryBuilder<TResult> {
  prepare(name: string): PreparedQuery<TResult>;
  execute(): Promise<TResult>;
}

/** `values.key` is `placeholder('key')`, for any key the query builder reads. */
function placeholderValues<TValues>(): Bindable<TValues> {
  return new Proxy({}, { get: (_, key) => sql.placeholder(String(key)) }) as Bindable<TValues>;
}

/** Values of a hot query, with the caller whose check the statement carries (see `Owns`), if any. */
export type AsCaller<TValues> = TValues & { caller?: Caller };

const NOBODY: Owns = () => undefined;

/**
 * `build(owns)` for a caller's guard; a query that never calls `owns` would run unchecked, so it is refused
 * when first built.
 */
function guardedBuild<T>(
  name: string,
  guard: CallerGuard,
  values: Record<string, unknown>,
  build: (owns: Owns) => T,
): T {
  let used = false;
  const query = build((owner) => {
    used = true;
    return guard.condition(owner, values);
  });
  if (!used)
    throw new Error(`${name} is given a caller, but its query never calls owns(): it would not check them`);
  return query;
}

/** The rows of a guarded statement; rows found confirm the caller (their credential held, the row is theirs). */
async function confirming<TResult>(caller: Caller, result: Promise<TResult>): Promise<TResult> {
  const rows = await result;
  if (Array.isArray(rows) && rows.length > 0) {
    // Most confirmations write nothing: no promise to wait for.
    const written = caller.confirm();
    if (written !== undefined) await written;
  }
  return rows;
}

/**
 * Where guarded statements run: the primary (a replica's copy of a session may outlive its logout by the
 * replica's lag). Drizzle's `withReplicas` keeps it as `$primary`.
 */
function primaryOf<TSchema extends Fields>(db: Database<TSchema>): Database<TSchema> {
  return (db as { $primary?: Database<TSchema> }).$primary ?? db;
}

/** One prepared variant per guard (a few per app), built on first use. */
function perGuard<T>(make: (guard: CallerGuard) => T): (guard: CallerGuard) => T {
  const made = new Map<CallerGuard, T>();
  return (guard) => {
    let variant = made.get(guard);
    if (variant === undefined) {
      variant = make(guard);
      made.set(guard, variant);
    }
    return variant;
  };
}

/**
 * A repository's hot query, written once: on `db` it runs prepared (a placeholder per value, so Drizzle
 * builds its SQL once), on any other executor it is built with the values and run as it is, because a
 * prepared statement belongs to the pool's sessions, not to a caller's transaction. With `values.caller`
 * the statement carries that caller's check where the query calls `owns(column)` (a prepared variant per
 * guard): no separate read of their session or user, and rows found confirm them.
 */
export function hotQuery<TSchema extends Fields, TValues extends Fields, TResult>(
  db: Database<TSchema>,
  name: string,
  build: (executor: Executor<TSchema>, values: Bindable<TValues>, owns: Owns) => HotQueryBuilder<TResult>,
): (values: AsCaller<TValues>, executor?: Executor<TSchema>) => Promise<TResult> {
  const bindable = placeholderValues<TValues>();
  const prepared = prepareQuery(db, name, build(db, bindable, NOBODY));
  const primary = primaryOf(db);
  const guarded = perGuard((guard) =>
    prepareQuery(
      primary,
      `${name}_${guard.name}`,
      guardedBuild(name, guard, bindable, (owns) => build(primary, bindable, owns)),
    ),
  );
  return (values, executor = db) => {
    const { caller } = values;
    if (caller === undefined) {
      return executor === db ? prepared.execute(values) : build(executor, values, NOBODY).execute();
    }
    const result =
      executor === db
        ? guarded(caller.guard).execute({ ...values, ...caller.values })
        : guardedBuild(name, caller.guard, caller.values, (owns) => build(executor, values, owns)).execute();
    return confirming(caller, result);
  };
}

/**
 * `hotQuery` for an update of only the columns a PATCH names: prepared once per set of changed columns
 * (see `preparePerKeys`), `key` (the row's id, and the caller whose check it carries) bound like
 * `hotQuery`'s values, `changes` the columns to set.
 */
export function hotUpdate<TSchema extends Fields, TKey extends Fields, TResult>(
  db: Database<TSchema>,
  name: string,
  build: (
    executor: Executor<TSchema>,
    key: Bindable<TKey>,
    changes: Fields,
    owns: Owns,
  ) => HotQueryBuilder<TResult>,
): (key: AsCaller<TKey>, changes: Fields, executor?: Executor<TSchema>) => Promise<TResult> {
  const bindable = placeholderValues<TKey>();
  const perKeys = preparePerKeys(db, name, (keys) => build(db, bindable, placeholders(keys), NOBODY));
  const guarded = perGuard((guard) =>
    preparePerKeys(db, `${name}_${guard.name}`, (keys) =>
      guardedBuild(name, guard, bindable, (owns) => build(db, bindable, placeholders(keys), owns)),
    ),
  );
  return (key, changes, executor = db) => {
    const { caller } = key;
    if (caller === undefined) {
      return executor === db
        ? perKeys(Object.keys(changes)).execute({ ...changes, ...key })
        : build(executor, key, changes, NOBODY).execute();
    }
    const result =
      executor === db
        ? guarded(caller.guard)(Object.keys(changes)).execute({ ...changes, ...key, ...caller.values })
        : guardedBuild(name, caller.guard, caller.values, (owns) =>
            build(executor, key, changes, owns),
          ).execute();
    return confirming(caller, result);
  };
}
