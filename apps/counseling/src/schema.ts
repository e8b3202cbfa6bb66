import { sql } from 'drizzle-orm';
import { boolean, check, index, pgTable, timestamp, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { authSessionsTable, foldedName } from 'groundwork-pg';

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: varchar('username', { length: 255 }).notNull(),
    passwordHash: varchar('password_hash', { length: 255 }).notNull(),
    isBlocked: boolean('is_blocked').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [
    // Windows logins are case-insensitive: \CAMPUS\ALICE and \campus\alice are one account. The name is
    // stored as given (for display) and unique in lower case.
    uniqueIndex('idx_users_username_lower').on(foldedName(t.username)),
    index('idx_users_is_blocked').on(t.isBlocked).where(sql`${t.isBlocked} = true`),
    // The list's order (newest first, id breaking ties), in PostgreSQL's DESC order, so a page is an index scan.
    index('idx_users_created_at_id').on(t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    // \domain\username: the database enforces it, so no write path can store another shape.
    check('users_username_format', sql`${t.username} ~ '^\\\\[^\\\\]+\\\\[^\\\\]+$'`),
  ],
);

/** Login sessions (POST /api/v1/auth/login): only a digest of each token; deleted with their user. */
export const authSessions = authSessionsTable(users.id);
