import { count, desc, eq, sql } from 'drizzle-orm';
import { type Bindable, type Caller, type Database, type Executor, hotQuery, rowById } from 'groundwork-pg';
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
  // The hot queries: prepared on the pool, built with the values inside a caller's transaction; by id, they
  // carry the check of a `caller` (an inQuery route's) in the same statement.
  const byId = rowById(db, { name: 'learnr_users', table: users, id: users.id });
  const byEmail = hotQuery(db, 'learnr_users_by_email', (executor, { email }: Bindable<{ email: string }>) =>
    executor
      .select()
      .from(users)
      .where(eq(sql`lower(${users.email})`, email))
      .limit(1),
  );
  const page = hotQuery(
    db,
    'learnr_users_page',
    (executor, { limit, offset }: Bindable<{ limit: number; offset: number }>) =>
      executor
        .select()
        .from(users)
        .orderBy(desc(users.createdAt), desc(users.id))
        .limit(limit)
        .offset(offset),
  );
  const total = hotQuery(db, 'learnr_users_count', (executor) =>
    executor.select({ value: count() }).from(users),
  );
  return {
    /** Inserts one user; a duplicate email (any case) raises 23505 from idx_users_email. */
    async create(
      { email, hashedPassword }: Pick<NewUserRow, 'email' | 'hashedPassword'>,
      executor: Executor<Schema> = db,
    ): Promise<UserRow> {
      const [row] = await executor.insert(users).values({ email, hashedPassword }).returning();
      return row!;
    },

    /** `caller`: the request's (`request.caller`), whose check the read carries. */
    findById: byId.find,

    /** The login lookup: emails are stored trimmed and lower-cased, so this one matches idx_users_email. */
    async findByEmail(
      { email }: { email: string },
      executor: Executor<Schema> = db,
    ): Promise<UserRow | undefined> {
      const [row] = await byEmail({ email: email.trim().toLowerCase() }, executor);
      return row;
    },

    /** A new hash for the same password (login upgrades hashes made with older argon2 parameters). */
    async setPasswordHash(
      { id, hashedPassword }: { id: string; hashedPassword: string },
      executor: Executor<Schema> = db,
    ): Promise<void> {
      await executor.update(users).set({ hashedPassword }).where(eq(users.id, id));
    },

    /**
     * Applies only the keys present in `changes`; returns undefined when the user does not exist (or is not
     * `caller`'s, whose check the update carries).
     */
    async update(
      { id, changes, caller }: { id: string; changes: UserChanges; caller?: Caller },
      executor: Executor<Schema> = db,
    ): Promise<UserRow | undefined> {
      const keys = Object.keys(changes);
      // Nothing to set is not an error: the row as it is (and no updated_at bump for a no-op).
      if (keys.length === 0) return byId.find({ id, caller }, executor);
      // One statement per set of changed columns (at most 2^7): a PATCH names only what it changes.
      return byId.update({ id, caller }, { ...changes }, executor);
    },

    /** Newest first; the id breaks ties so pages never overlap when timestamps are equal. */
    async list(
      { limit, offset }: { limit: number; offset: number },
      executor: Executor<Schema> = db,
    ): Promise<{ rows: UserRow[]; count: number }> {
      const [rows, [counted]] = await Promise.all([page({ limit, offset }, executor), total({}, executor)]);
      return { rows, count: counted?.value ?? 0 };
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
