import { count, desc, eq } from 'drizzle-orm';
import { type Caller, type Database, type Executor, rowById } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { type NewUserRow, type UserRow, users } from '../schema.ts';

type Schema = typeof schema;

/** Data access for users; every method takes an optional transaction so callers can compose writes. */
export function createUsersRepository(db: Database<Schema>) {
  // What requests repeat, by id: prepared on the pool, built with the values inside a caller's transaction;
  // each carries the check of a `caller` (an inQuery route's) in the same statement.
  const byId = rowById(db, { name: 'template_app_user', table: users, id: users.id });

  return {
    async create(values: NewUserRow, executor: Executor<Schema> = db): Promise<UserRow> {
      const [row] = await executor.insert(users).values(values).returning();
      return row!;
    },

    /** `caller`: the request's (`request.caller`), whose check the read carries. */
    findById: byId.find,

    update(
      { id, changes, caller }: { id: string; changes: Pick<NewUserRow, 'displayName'>; caller?: Caller },
      executor: Executor<Schema> = db,
    ): Promise<UserRow | undefined> {
      return byId.update({ id, caller }, changes, executor);
    },

    /** True when a user was deleted. */
    async remove({ id }: { id: string }, executor: Executor<Schema> = db): Promise<boolean> {
      return (await executor.delete(users).where(eq(users.id, id)).returning({ id: users.id })).length > 0;
    },

    /** Newest first; the id breaks ties so pages never overlap. */
    async list(
      { limit, offset }: { limit: number; offset: number },
      executor: Executor<Schema> = db,
    ): Promise<{ rows: UserRow[]; count: number }> {
      const [rows, [total]] = await Promise.all([
        executor
          .select()
          .from(users)
          .orderBy(desc(users.createdAt), desc(users.id))
          .limit(limit)
          .offset(offset),
        executor.select({ value: count() }).from(users),
      ]);
      return { rows, count: total?.value ?? 0 };
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
