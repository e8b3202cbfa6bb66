import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  date,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { authPasswordResetsTable, authSessionsTable } from 'groundwork-pg';

/** Allowed values, shared with the zod schemas so the API and the CHECK constraints cannot disagree. */
export const KNOWLEDGE_LEVELS = ['Beginner', 'Intermediate', 'Advanced'] as const;
export const REFERRAL_SOURCES = ['Search', 'Friend', 'Social', 'Other'] as const;
export const DARK_MODES = ['light', 'dark', 'auto'] as const;
export const TARGET_SCORE = { min: 0, max: 100 } as const;
/** Minutes per day. */
export const DAILY_STUDY_TIME = { min: 1, max: 1440 } as const;
export const EMAIL_MAX = 255;

const list = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/**
 * One table: the story's decision to embed onboarding in `users` (1:1, no lifecycle of its own).
 * Onboarding columns are nullable because a user fills them in after signing up.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: varchar('email', { length: EMAIL_MAX }).notNull(),
    hashedPassword: varchar('hashed_password', { length: 255 }).notNull(),
    examDate: date('exam_date', { mode: 'string' }),
    targetScore: integer('target_score'),
    dailyStudyTime: integer('daily_study_time'),
    knowledgeLevel: varchar('knowledge_level', { length: 50 }).$type<(typeof KNOWLEDGE_LEVELS)[number]>(),
    motivation: text('motivation'),
    referralSource: varchar('referral_source', { length: 50 }).$type<(typeof REFERRAL_SOURCES)[number]>(),
    isAdmin: boolean('is_admin').notNull().default(false),
    darkMode: varchar('dark_mode', { length: 10 })
      .$type<(typeof DARK_MODES)[number]>()
      .notNull()
      .default('auto'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    // Kept true by the learnr_set_updated_at trigger, not by the application.
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [
    // Case-insensitive: Ann@x.io and ann@x.io are one account, whatever path wrote the row.
    uniqueIndex('idx_users_email').on(sql`lower(${t.email})`),
    index('idx_users_created_at').on(t.createdAt),
    check(
      'check_target_score_range',
      sql`${t.targetScore} BETWEEN ${sql.raw(String(TARGET_SCORE.min))} AND ${sql.raw(String(TARGET_SCORE.max))}`,
    ),
    check(
      'check_daily_study_time_range',
      sql`${t.dailyStudyTime} BETWEEN ${sql.raw(String(DAILY_STUDY_TIME.min))} AND ${sql.raw(String(DAILY_STUDY_TIME.max))}`,
    ),
    check('check_knowledge_level', sql`${t.knowledgeLevel} IN (${list(KNOWLEDGE_LEVELS)})`),
    check('check_referral_source', sql`${t.referralSource} IN (${list(REFERRAL_SOURCES)})`),
    check('check_dark_mode', sql`${t.darkMode} IN (${list(DARK_MODES)})`),
  ],
);

/** Login sessions (POST /api/v1/auth/login): only a digest of each token; deleted with their user. */
export const authSessions = authSessionsTable(users.id);

/** Password-reset tokens (POST /api/v1/auth/password-reset): only a digest of each; deleted with their user. */
export const authPasswordResets = authPasswordResetsTable(users.id);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
