import type { SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

/**
 * How a statement checks its caller: a condition that the column holding a row's owning user id is the
 * caller's (their live session's user, their token's user). One guard per kind of credential of an app,
 * built once; each is a prepared variant of the hot queries that take it.
 */
export interface CallerGuard {
  /** Names the prepared variant: `<query name>_<name>`. */
  readonly name: string;
  /**
   * The condition on `owner`; `values` holds the guard's placeholders when the statement is prepared, the
   * caller's own values when it is built inside a transaction.
   */
  condition(owner: PgColumn, values: Record<string, unknown>): SQL;
}

/**
 * A request whose credential is checked by the statement it runs (an `own` route with `inQuery`): the guard,
 * the values of its placeholders, and `confirm`, which a guarded statement that found rows calls.
 */
export interface Caller {
  readonly guard: CallerGuard;
  readonly values: Record<string, unknown>;
  confirm(): Promise<void> | void;
}

/** In a hot query's `build`: the caller's condition on the row's owner column; nothing without a caller. */
export type Owns = (owner: PgColumn) => SQL | undefined;
