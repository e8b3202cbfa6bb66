import { pgTable, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

export const EMAIL_MAX = 320;
export const DISPLAY_NAME_MAX = 100;

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** The issuer's user id (a token's `sub`): how requests find their user. */
  subject: varchar('subject', { length: 255 }).notNull().unique(),
  email: varchar('email', { length: EMAIL_MAX }).notNull().unique(),
  displayName: varchar('display_name', { length: DISPLAY_NAME_MAX }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
