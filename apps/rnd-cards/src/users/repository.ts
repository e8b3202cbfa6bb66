import { eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../database.ts';
import { type UserRow, users } from '../schema.ts';

export interface CreateUserInput {
  email: string;
  name: string;
  cognitoSub: string;
  company?: string | null;
}

/** Emails are stored lower-cased, so the unique constraint and getByEmail ignore case. */
const normalizeEmail = (email: string) => email.trim().toLowerCase();

export function createUsersRepository(db: Db) {
  // The by-id read is what requests repeat; prepared once per database handle.
  const byId = db
    .select()
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .prepare('rnd_cards_user_by_id');

  return {
    async create(
      { email, name, cognitoSub, company = null }: CreateUserInput,
      tx: Tx = db,
    ): Promise<UserRow> {
      const [row] = await tx
        .insert(users)
        .values({ email: normalizeEmail(email), name, cognitoSub, company })
        .returning();
      return row!;
    },

    async getById({ id }: { id: string }, tx?: Tx): Promise<UserRow | undefined> {
      const rows = tx ? await tx.select().from(users).where(eq(users.id, id)) : await byId.execute({ id });
      return rows[0];
    },

    async getByEmail({ email }: { email: string }, tx: Tx = db): Promise<UserRow | undefined> {
      const [row] = await tx
        .select()
        .from(users)
        .where(eq(users.email, normalizeEmail(email)));
      return row;
    },

    /** Records a sign-in (now, by the database's clock, unless `at` is given); undefined when no such user. */
    async updateLastLogin({ id, at }: { id: string; at?: Date }, tx: Tx = db): Promise<UserRow | undefined> {
      const [row] = await tx
        .update(users)
        .set({ lastLoginAt: at ?? sql`now()` })
        .where(eq(users.id, id))
        .returning();
      return row;
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
