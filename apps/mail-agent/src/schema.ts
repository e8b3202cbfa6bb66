import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

/**
 * The foundation's sealed-secret formats, `v1|v2.<keyId>.<iv>.<ciphertext+tag>` (v2 is bound to its row and
 * column). The database refuses anything else, so no write path (a script, a psql session, a future route)
 * can store a plaintext token.
 */
const SEALED = `'^v[12]\\.[A-Za-z0-9_-]{1,32}\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$'`;

export const users = pgTable(
  'users',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    email: varchar('email', { length: 255 }).notNull(),
    // Sealed with AES-256-GCM under SECRET_KEYS (src/secrets.ts); never plaintext, never in a response.
    gmailOauthToken: text('gmail_oauth_token'),
    gmailRefreshToken: text('gmail_refresh_token'),
    telegramId: varchar('telegram_id', { length: 100 }),
    telegramUsername: varchar('telegram_username', { length: 100 }),
    // Soft delete: a deactivated user keeps its row (and its history) but disappears from the API.
    isActive: boolean('is_active').notNull().default(true),
    onboardingCompleted: boolean('onboarding_completed').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    // Kept true by the trigger in migration "users updated_at trigger".
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('ix_users_email').on(t.email),
    // Most users have no Telegram link yet; only real ids take part in the uniqueness.
    uniqueIndex('ix_users_telegram_id').on(t.telegramId).where(sql`${t.telegramId} is not null`),
    check('users_gmail_oauth_token_sealed', sql.raw(`"gmail_oauth_token" ~ ${SEALED}`)),
    check('users_gmail_refresh_token_sealed', sql.raw(`"gmail_refresh_token" ~ ${SEALED}`)),
  ],
);

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull().default(''),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [index('ix_sessions_user_id').on(t.userId)],
);
