import { relations } from 'drizzle-orm';
import { boolean, jsonb, pgTable, timestamp, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';

/** Working hours a user sets for themselves; validated by zod before it is stored (src/users/schemas.ts). */
export interface CustomHours {
  start: string;
  end: string;
  timezone: string;
}

export interface CommunicationPreferences {
  email: boolean;
  sms: boolean;
  in_app: boolean;
}

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // Clerk's id (`user_2abc...`) is the identifier sessions arrive with; our uuid is what foreign keys use.
    clerkUserId: varchar('clerk_user_id', { length: 255 }).notNull(),
    email: varchar('email', { length: 255 }).notNull(),
    timezone: varchar('timezone', { length: 50 }).notNull().default('UTC'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    // Kept true by the trigger delight_set_updated_at (migration add_updated_at_triggers).
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // One unique index is both the uniqueness rule and the index for lookups by Clerk id.
  (t) => [uniqueIndex('ix_users_clerk_user_id').on(t.clerkUserId)],
);

export const userPreferences = pgTable('user_preferences', {
  id: uuid('id').primaryKey().defaultRandom(),
  // The unique constraint makes the relationship one-to-one in the database, not just in code.
  userId: uuid('user_id')
    .notNull()
    .unique('user_preferences_user_id_key')
    .references(() => users.id, { onDelete: 'cascade' }),
  customHours: jsonb('custom_hours').$type<CustomHours>(),
  theme: varchar('theme', { length: 50 }).default('modern'),
  communicationPreferences: jsonb('communication_preferences').$type<CommunicationPreferences>(),
  onboardingCompleted: boolean('onboarding_completed').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const usersRelations = relations(users, ({ one }) => ({
  preferences: one(userPreferences),
}));

export const userPreferencesRelations = relations(userPreferences, ({ one }) => ({
  user: one(users, { fields: [userPreferences.userId], references: [users.id] }),
}));

export type UserRow = typeof users.$inferSelect;
export type UserPreferencesRow = typeof userPreferences.$inferSelect;
