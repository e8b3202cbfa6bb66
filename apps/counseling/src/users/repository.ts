import { count, desc, eq } from 'drizzle-orm';
import { type Database, type Executor, rowById, sameName } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { authSessions, users } from '../schema.ts';

export type UserRow = typeof users.$inferSelect;

type Schema = typeof schema;

/** Data access for users: the only place that builds SQL for them. */
export function createUsersRepository(db: Database<Schema>) {
  // The hot read: prepared on the pool, built with the id inside a caller's transaction; it carries the check
  // of a `caller` (an inQuery route's) in the same statement.
  const byId = rowById(db, { name: 'counseling_user', table: users, id: users.id });

  return {
    async create(
      { username, passwordHash }: { username: string; passwordHash: string },
      executor: Executor<Schema> = db,
    ): Promise<UserRow> {
      const [row] = await executor.insert(users).values({ username, passwordHash }).returning();
      return row!;
    },

    findById: byId.find,

    /**
     * A page of users, newest first, and how many match the filter in total. Two statements: a window count
     * over the page query would read every row, where the page alone is an index scan of its first rows.
     */
    async list(
      { blocked, limit, offset }: { blocked?: boolean; limit: number; offset: number },
      executor: Executor<Schema> = db,
    ): Promise<{ rows: UserRow[]; total: number }> {
      const filter = blocked === undefined ? undefined : eq(users.isBlocked, blocked);
      const [rows, [counted]] = await Promise.all([
        executor
          .select()
          .from(users)
          .where(filter)
          .orderBy(desc(users.createdAt), desc(users.id))
          .limit(limit)
          .offset(offset),
        executor.select({ total: count() }).from(users).where(filter),
      ]);
      return { rows, total: counted?.total ?? 0 };
    },

    /**
     * Blocks or unblocks; blocking also ends the user's open sessions, in the same transaction, so a block
     * takes effect at once rather than when the sessions expire. updated_at is left to the database trigger.
     */
    async setBlocked(
      { id, isBlocked }: { id: string; isBlocked: boolean },
      executor: Executor<Schema> = db,
    ): Promise<UserRow | undefined> {
      return executor.transaction(async (tx) => {
        const [row] = await tx.update(users).set({ isBlocked }).where(eq(users.id, id)).returning();
        if (row?.isBlocked) await tx.delete(authSessions).where(eq(authSessions.userId, id));
        return row;
      });
    },

    /** The login lookup, in any letter case: the rule of the unique index idx_users_username_lower. */
    async findByUsername(
      { username }: { username: string },
      executor: Executor<Schema> = db,
    ): Promise<UserRow | undefined> {
      const [row] = await executor.select().from(users).where(sameName(users.username, username)).limit(1);
      return row;
    },

    /** A new hash for the same password (login upgrades hashes made with older argon2 parameters). */
    async setPasswordHash(
      { id, passwordHash }: { id: string; passwordHash: string },
      executor: Executor<Schema> = db,
    ): Promise<void> {
      await executor.update(users).set({ passwordHash }).where(eq(users.id, id));
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
