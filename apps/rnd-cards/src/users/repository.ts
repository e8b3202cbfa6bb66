import { eq, sql } from 'drizzle-orm';
import { type Database, type Executor, rowById } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { type UserRow, users } from '../schema.ts';

type Schema = typeof schema;

export interface CreateUserInput {
  email: string;
  name: string;
  cognitoSub: string;
  company?: string | null;
}

/** Emails are stored lower-cased, so the unique constraint and findByEmail ignore case. */
const normalizeEmail = (email: string) => email.trim().toLowerCase();

export function createUsersRepository(db: Database<Schema>) {
  // The by-id read is what requests repeat: prepared on the pool, plain inside a caller's transaction; it
  // carries the check of a `caller` (an inQuery route's) in the same statement.
  const byId = rowById(db, { name: 'rnd_cards_user', table: users, id: users.id });

  return {
    async create(
      { email, name, cognitoSub, company = null }: CreateUserInput,
      executor: Executor<Schema> = db,
    ): Promise<UserRow> {
      const [row] = await executor
        .insert(users)
        .values({ email: normalizeEmail(email), name, cognitoSub, company })
        .returning();
      return row!;
    },

    findById: byId.find,

    async findByEmail(
      { email }: { email: string },
      executor: Executor<Schema> = db,
    ): Promise<UserRow | undefined> {
      const [row] = await executor
        .select()
        .from(users)
        .where(eq(users.email, normalizeEmail(email)));
      return row;
    },

    /** Records a sign-in (now, by the database's clock, unless `at` is given); undefined when no such user. */
    async updateLastLogin(
      { id, at }: { id: string; at?: Date },
      executor: Executor<Schema> = db,
    ): Promise<UserRow | undefined> {
      const [row] = await executor
        .update(users)
        .set({ lastLoginAt: at ?? sql`now()` })
        .where(eq(users.id, id))
        .returning();
      return row;
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
