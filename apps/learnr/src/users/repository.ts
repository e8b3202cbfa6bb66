import { count, desc, eq, type Placeholder, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { type Database, type Executor, placeholders, preparePerKeys, prepareQuery } from 'groundwork-pg';
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

/** A value, or the placeholder a prepared statement fills in at each call. */
type Input<T> = T | Placeholder;
const { placeholder } = sql;

/**
 * The hot queries, written once: prepared with placeholders on the database, and built with the values
 * on a caller's transaction (a prepared query belongs to the database's session, not to a transaction).
 */
const queries = {
  findById: (executor: Executor<Schema>, id: Input<string>) =>
    executor.select().from(users).where(eq(users.id, id)).limit(1),
  findByEmail: (executor: Executor<Schema>, email: Input<string>) =>
    executor
      .select()
      .from(users)
      .where(eq(sql`lower(${users.email})`, email))
      .limit(1),
  page: (executor: Executor<Schema>, limit: Input<number>, offset: Input<number>) =>
    executor.select().from(users).orderBy(desc(users.createdAt), desc(users.id)).limit(limit).offset(offset),
  count: (executor: Executor<Schema>) => executor.select({ value: count() }).from(users),
  update: (executor: Executor<Schema>, id: Input<string>, changes: Record<string, unknown>) =>
    executor
      .update(users)
      .set(changes as PgUpdateSetSource<typeof users>)
      .where(eq(users.id, id))
      .returning(),
};

/** Data access for users; every method takes an optional transaction so callers can compose writes. */
export function createUsersRepository(db: Database<Schema>) {
  const prepared = {
    findById: prepareQuery(db, 'learnr_users_by_id', queries.findById(db, placeholder('id'))),
    findByEmail: prepareQuery(db, 'learnr_users_by_email', queries.findByEmail(db, placeholder('email'))),
    page: prepareQuery(
      db,
      'learnr_users_page',
      queries.page(db, placeholder('limit'), placeholder('offset')),
    ),
    count: prepareQuery(db, 'learnr_users_count', queries.count(db)),
    /** One statement per set of changed columns (at most 2^7): a PATCH names only what it changes. */
    update: preparePerKeys(db, 'learnr_users_update', (keys) =>
      queries.update(db, placeholder('id'), placeholders(keys)),
    ),
  };

  async function findById(
    { id }: { id: string },
    executor: Executor<Schema> = db,
  ): Promise<UserRow | undefined> {
    const [row] = await (executor === db
      ? prepared.findById.execute({ id })
      : queries.findById(executor, id).execute());
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
      const normalized = email.trim().toLowerCase();
      const [row] = await (executor === db
        ? prepared.findByEmail.execute({ email: normalized })
        : queries.findByEmail(executor, normalized).execute());
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
      const keys = Object.keys(changes);
      // Nothing to set is not an error: the row as it is (and no updated_at bump for a no-op).
      if (keys.length === 0) return findById({ id }, executor);
      const [row] = await (executor === db
        ? prepared.update(keys).execute({ ...changes, id })
        : queries.update(executor, id, { ...changes }).execute());
      return row;
    },

    /** Newest first; the id breaks ties so pages never overlap when timestamps are equal. */
    async list(
      { limit, offset }: { limit: number; offset: number },
      executor: Executor<Schema> = db,
    ): Promise<{ rows: UserRow[]; count: number }> {
      const [rows, [total]] = await Promise.all(
        executor === db
          ? [prepared.page.execute({ limit, offset }), prepared.count.execute()]
          : [queries.page(executor, limit, offset).execute(), queries.count(executor).execute()],
      );
      return { rows, count: total?.value ?? 0 };
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
