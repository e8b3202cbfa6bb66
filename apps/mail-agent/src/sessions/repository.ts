import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { sessions, users } from '../schema.ts';

export type SessionRow = typeof sessions.$inferSelect;
type Db = Executor<typeof schema>;

export function createSessionsRepository(db: Db) {
  return {
    /** Inserts only for an active user, in one statement: undefined when the user is missing or deactivated. */
    async create(
      { userId, name }: { userId: number; name: string },
      executor: Db = db,
    ): Promise<SessionRow | undefined> {
      const [row] = await executor
        .insert(sessions)
        .select(
          executor
            .select({
              id: sql`gen_random_uuid()`.as('id'),
              userId: users.id,
              name: sql`${name}::varchar`.as('name'),
              createdAt: sql`now()`.as('created_at'),
            })
            .from(users)
            .where(and(eq(users.id, userId), eq(users.isActive, true))),
        )
        .returning();
      return row;
    },

    async listForUser(
      { userId, limit }: { userId: number; limit: number },
      executor: Db = db,
    ): Promise<SessionRow[]> {
      return executor
        .select()
        .from(sessions)
        .where(eq(sessions.userId, userId))
        .orderBy(asc(sessions.createdAt), asc(sessions.id))
        .limit(limit);
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
