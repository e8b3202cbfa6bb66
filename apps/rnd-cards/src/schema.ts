import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

// Ids come from uuid-ossp (the story's choice); the first migration creates the extension.
const id = () => uuid('id').primaryKey().default(sql`uuid_generate_v4()`);
const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
// `updated_at` is rewritten by a BEFORE UPDATE trigger (migration set_updated_at_triggers), not by the code.
const createdAt = () => timestamptz('created_at').notNull().defaultNow();
const updatedAt = () => timestamptz('updated_at').notNull().defaultNow();

export const BATCH_STATUSES = [
  'uploading',
  'validating',
  'validation_failed',
  'queued',
  'processing',
  'completed',
  'partially_completed',
  'archived',
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export const PROJECT_STATUSES = [
  'pending',
  'generating',
  'completed',
  'failed',
  'reviewed',
  'exported',
] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

export const SECTION_KEYS = [
  'nazwa_projektu',
  'cel_projektu',
  'opis_projektu',
  'nowatorstwo',
  'metodologia',
  'rezultaty',
  'koszty',
  'harmonogram',
] as const;
export type SectionKey = (typeof SECTION_KEYS)[number];

export interface UserPreferences {
  defaultAiModel: string;
  language: string;
  notificationsEnabled: boolean;
  [key: string]: unknown;
}

export const DEFAULT_PREFERENCES: UserPreferences = {
  defaultAiModel: 'claude',
  language: 'pl',
  notificationsEnabled: true,
};

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

export const users = pgTable('users', {
  id: id(),
  // Unique constraints are backed by unique indexes, so they serve the story's email and cognito_sub lookups.
  email: varchar('email', { length: 255 }).notNull().unique('users_email_key'),
  name: varchar('name', { length: 255 }).notNull(),
  company: varchar('company', { length: 255 }),
  cognitoSub: varchar('cognito_sub', { length: 255 }).notNull().unique('users_cognito_sub_key'),
  preferences: jsonb('preferences').$type<UserPreferences>().notNull().default(DEFAULT_PREFERENCES),
  lastLoginAt: timestamptz('last_login_at'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const batches = pgTable(
  'batches',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    status: varchar('status', { length: 30 }).$type<BatchStatus>().notNull().default('uploading'),
    totalProjects: integer('total_projects').notNull(),
    completedProjects: integer('completed_projects').notNull().default(0),
    averageQualityScore: numeric('average_quality_score', { precision: 5, scale: 2, mode: 'number' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    // A column default cannot read another column; now() is the transaction's start time, the same value
    // created_at's default takes in the same INSERT, so expires_at = created_at + 90 days exactly.
    expiresAt: timestamptz('expires_at').notNull().default(sql`now() + interval '90 days'`),
  },
  (t) => [
    check('batches_status_check', sql`${t.status} in (${inList(BATCH_STATUSES)})`),
    check('batches_total_projects_check', sql`${t.totalProjects} between 1 and 20`),
    check('batches_completed_projects_check', sql`${t.completedProjects} >= 0`),
    // (user_id, created_at desc, id desc) serves the foreign key's cascades and listByUser's order and limit
    // without a sort. NULLS FIRST is PostgreSQL's DESC default: drizzle's bare .desc() writes DESC NULLS
    // LAST, an index `ORDER BY created_at DESC` cannot use.
    index('idx_batches_user_id_created_at').on(
      t.userId,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('idx_batches_status').on(t.status),
    index('idx_batches_created_at').on(t.createdAt.desc().nullsFirst()),
    index('idx_batches_expires_at').on(t.expiresAt),
  ],
);

export const projects = pgTable(
  'projects',
  {
    id: id(),
    batchId: uuid('batch_id')
      .notNull()
      .references(() => batches.id, { onDelete: 'cascade' }),
    rowNumber: integer('row_number').notNull(),
    status: varchar('status', { length: 20 }).$type<ProjectStatus>().notNull().default('pending'),
    qualityScore: numeric('quality_score', { precision: 5, scale: 2, mode: 'number' }),
    inputData: jsonb('input_data').$type<Record<string, unknown>>().notNull(),
    aiModel: varchar('ai_model', { length: 50 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // A unique index rather than a UNIQUE constraint: drizzle-kit introspects a multi-column constraint's
    // columns in no fixed order, which `db check` then reports as drift. It leads with batch_id, so it is
    // also the story's batch_id index.
    uniqueIndex('projects_batch_id_row_number_key').on(t.batchId, t.rowNumber),
    check('projects_status_check', sql`${t.status} in (${inList(PROJECT_STATUSES)})`),
    check('projects_quality_score_check', sql`${t.qualityScore} between 0 and 100`),
    index('idx_projects_status').on(t.status),
  ],
);

export type Sections = Record<SectionKey, string>;

export const projectContents = pgTable('project_contents', {
  projectId: uuid('project_id')
    .primaryKey()
    .references(() => projects.id, { onDelete: 'cascade' }),
  sections: jsonb('sections').$type<Sections>().notNull(),
  version: integer('version').notNull().default(1),
  lastEditedSection: varchar('last_edited_section', { length: 50 }).$type<SectionKey>(),
  updatedAt: updatedAt(),
});

export const generationMetadata = pgTable('generation_metadata', {
  projectId: uuid('project_id')
    .primaryKey()
    .references(() => projects.id, { onDelete: 'cascade' }),
  attempts: integer('attempts').notNull().default(0),
  totalInputTokens: integer('total_input_tokens').notNull().default(0),
  totalOutputTokens: integer('total_output_tokens').notNull().default(0),
  totalCostEur: numeric('total_cost_eur', { precision: 10, scale: 4, mode: 'number' }).notNull().default(0),
  averageLatencyMs: integer('average_latency_ms'),
  modelUsed: varchar('model_used', { length: 50 }),
  errors: jsonb('errors').$type<unknown[]>().notNull().default([]),
  completedAt: timestamptz('completed_at'),
});

export type UserRow = typeof users.$inferSelect;
export type BatchRow = typeof batches.$inferSelect;
export type ProjectRow = typeof projects.$inferSelect;
