import { eq, getTableColumns, sql } from 'drizzle-orm';
import { type Database, type Executor, prepareQuery } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { userPreferences, users } from '../schema.ts';
import {
  type PreferencesPublic,
  type PreferencesReplace,
  toPreferencesPublic,
  toUserPublic,
  type UserCreate,
  type UserPublic,
  type UserWithPreferences,
} from './schemas.ts';

type Schema = typeof schema;

export function createUsersRepository(db: Database<Schema>) {
  /**
   * The user and their preferences in ONE statement: Drizzle's relational query compiles `with` into a
   * single SELECT with a lateral subquery on user_preferences (test/users.test.ts counts the statements
   * through Drizzle's logger). Prepared once, since every authenticated request starts with this lookup.
   */
  const byClerkId = prepareQuery(
    db,
    'delight_user_by_clerk_id',
    db.query.users.findFirst({
      where: eq(users.clerkUserId, sql.placeholder('clerkUserId')),
      with: { preferences: true },
    }),
  );

  return {
    async create({ user }: { user: UserCreate }, executor: Executor<Schema> = db): Promise<UserPublic> {
      const [row] = await executor
        .insert(users)
        .values({ clerkUserId: user.clerk_user_id, email: user.email, timezone: user.timezone })
        .returning();
      return toUserPublic(row!);
    },

    async findByClerkId({ clerkUserId }: { clerkUserId: string }): Promise<UserWithPreferences | undefined> {
      const row = await byClerkId.execute({ clerkUserId });
      if (!row) return undefined;
      const { preferences, ...user } = row;
      return { ...toUserPublic(user), preferences: preferences ? toPreferencesPublic(preferences) : null };
    },

    /**
     * Create or replace in one statement: the unique user_id makes ON CONFLICT the one-to-one upsert, with no
     * read-then-write race. An unknown user is the foreign key's 23503. `xmax = 0` is true only for a row
     * this statement inserted, which tells the caller 201 from 200.
     */
    async replacePreferences(
      { userId, preferences }: { userId: string; preferences: PreferencesReplace },
      executor: Executor<Schema> = db,
    ): Promise<{ preferences: PreferencesPublic; created: boolean }> {
      const values = {
        customHours: preferences.custom_hours,
        theme: preferences.theme,
        communicationPreferences: preferences.communication_preferences,
        onboardingCompleted: preferences.onboarding_completed,
      };
      const [returned] = await executor
        .insert(userPreferences)
        .values({ userId, ...values })
        .onConflictDoUpdate({ target: userPreferences.userId, set: values })
        .returning({ ...getTableColumns(userPreferences), created: sql<boolean>`(xmax = 0)` });
      const { created, ...row } = returned!;
      return { preferences: toPreferencesPublic(row), created };
    },

    /** The database's ON DELETE CASCADE removes the preferences with the user. */
    async delete({ id }: { id: string }, executor: Executor<Schema> = db): Promise<boolean> {
      const rows = await executor.delete(users).where(eq(users.id, id)).returning({ id: users.id });
      return rows.length > 0;
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
