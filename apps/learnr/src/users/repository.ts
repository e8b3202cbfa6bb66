import { count, desc, eq, sql } from 'drizzle-orm';
import type { Database, Executor } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { type NewUserRow, type UserRow, users } from '../schema.ts';

type Schema = typeof schema;

export interface UserChanges {
  examDate?: string | null;
  targetScore?: number | null;
  dailyStudyTime?: number | null;
  knowledgeLevel?: UserRow['knowledgeLevel'];
  motivation?: string | null;
  referralSource?: UserRow['referralSource'];
  darkMode?: UserRow['darkMode'];
}

/** Data access for users; every method takes an optional transaction so callers can compose writes. */
export function createUsersRepository(db: Database<Schema>) {
  async function findById(
    { id }: { id: string },
    executor: Executor<Schema> = db,
  ): Promise<UserRow | undefined> {
    const [row] = await executor.select().from(users).where(eq(users.id, id)).limit(1);
    return row;
  }

  return {
    /** Inserts one user; a duplicate email (any case) raises 23505 from idx_users_email. */
    async create(
      { email, hashedPassword }: Pick<NewUserRow, 'email' | 'hashedPassword'>,
      executor: Executor<Schema> = db,
    ): Promise<UserRow> {
      const [row] = await executor.insert(users).values({ email, hashedPassword }).returning();
      return row!;
    },

    findById,

    /** The login lookup: emails are stored trimmed and lower-cased, so this one matches idx_users_email. */
    async findByEmail(
      { email }: { email: string },
      executor: Executor<Schema> = db,
    ): Promise<UserRow | undefined> {
      const [row] = await executor
        .select()
        .from(users)
        .where(eq(sql`lower(${users.email})`, email.trim().toLowerCase()))
        .limit(1);
      return row;
    },

    /** A new hash for the same password (login upgrades hashes made with older argon2 parameters). */
    async setPasswordHash(
      { id, hashedPassword }: { id: string; hashedPassword: string },
      executor: Executor<Schema> = db,
    ): Promise<void> {
      await executor.update(users).set({ hashedPassword }).where(eq(users.id, id));
    },

    /** Applies only the keys present in `changes`; returns undefined when the user does not exist. */
    async update(
      { id, changes }: { id: string; changes: UserChanges },
      executor: Executor<Schema> = db,
    ): Promise<UserRow | undefined> {
      // Nothing to set is not an error: the row as it is (and no updated_at bump for a no-op).
      if (Object.keys(changes).length === 0) return findById({ id }, executor);
      const [row] = await executor.update(users).set(changes).where(eq(users.id, id)).returning();
      return row;
    },

    /** Newest first; the id breaks ties so pages never overlap when timestamps are equal. */
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
