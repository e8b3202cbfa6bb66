import { count, desc, eq } from 'drizzle-orm';
import { type Bindable, type Database, type Executor, hotQuery } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { type NewUserRow, type UserRow, users } from '../schema.ts';

type Schema = typeof schema;

/** Data access for users; every method takes an optional transaction so callers can compose writes. */
export function createUsersRepository(db: Database<Schema>) {
  // The read every request repeats: prepared on the pool, built with the id inside a caller's transaction.
  const byId = hotQuery(db, 'template_app_user_by_id', (executor, { id }: Bindable<{ id: string }>) =>
    executor.select().from(users).where(eq(users.id, id)),
  );

  return {
    async create(values: NewUserRow, executor: Executor<Schema> = db): Promise<UserRow> {
      const [row] = await executor.insert(users).values(values).returning();
      return row!;
    },

    async findById({ id }: { id: string }, executor: Executor<Schema> = db): Promise<UserRow | undefined> {
      const [row] = await byId({ id }, executor);
      return row;
    },

    async update(
      { id, changes }: { id: string; changes: Pick<NewUserRow, 'displayName'> },
      executor: Executor<Schema> = db,
    ): Promise<UserRow | undefined> {
      const [row] = await executor.update(users).set(changes).where(eq(users.id, id)).returning();
      return row;
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
