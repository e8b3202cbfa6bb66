import { and, eq, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Caller } from './callers.ts';
import type { Database, Executor } from './open.ts';
import { hotQuery, hotUpdate } from './prepared.ts';

type Fields = Record<string, unknown>;

export interface RowByIdOptions<TTable extends PgTable, TId extends PgColumn> {
  /** Prefix of the prepared statements' names: `<name>_by_id`, `<name>_update`. */
  name: string;
  table: TTable;
  /** The key column the route's `:id` names; also the owner column a caller's check is on, unless `owner`. */
  id: TId;
  /** The column holding the owning user's id, when it is not `id`. */
  owner?: PgColumn;
  /** Rows outside it do not exist for these statements (e.g. soft-deleted ones). */
  where?: SQL;
}

export interface RowById<TSchema extends Fields, TRow, TId> {
  /** The row, or undefined when there is none (or it is not `caller`'s, whose check the read carries). */
  find(key: { id: TId; caller?: Caller }, executor?: Executor<TSchema>): Promise<TRow | undefined>;
  /** Sets `changes` (columns by their field names) and returns the row; undefined as `find`. */
  update(
    key: { id: TId; caller?: Caller },
    changes: Fields,
    executor?: Executor<TSchema>,
  ): Promise<TRow | undefined>;
}

/**
 * The read and update of one row by its key that an own-row route makes: hot queries (prepared on the pool,
 * built with the values inside a caller's transaction), each carrying the check of a `caller` (an `inQuery`
 * route's, see callers.ts) in the same statement.
 */
export function rowById<TSchema extends Fields, TTable extends PgTable, TId extends PgColumn>(
  db: Database<TSchema>,
  { name, table, id, owner = id, where }: RowByIdOptions<TTable, TId>,
): RowById<TSchema, TTable['$inferSelect'], TId['_']['data']> {
  type Row = TTable['$inferSelect'];
  const byId = hotQuery(db, `${name}_by_id`, (executor, values: { id: unknown }, owns) =>
    executor
      .select()
      .from(table as PgTable)
      .where(and(eq(id, values.id), where, owns(owner))),
  );
  const updateOf = hotUpdate(db, `${name}_update`, (executor, key: { id: unknown }, changes, owns) =>
    executor
      .update(table)
      .set(changes)
      .where(and(eq(id, key.id), where, owns(owner)))
      .returning(),
  );
  return {
    async find(key, executor) {
      const [row] = (await byId(key, executor)) as Row[];
      return row;
    },
    async update(key, changes, executor) {
      const [row] = (await updateOf(key, changes, executor)) as Row[];
      return row;
    },
  };
}
