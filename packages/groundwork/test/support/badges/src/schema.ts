import { pgTable, text, uuid } from 'drizzle-orm/pg-core';

/** Users of a `jwt` app, matched to tokens by `subject` (a Clerk or Cognito user id). */
export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  subject: text('subject').notNull().unique(),
  name: text('name').notNull(),
});
