import { offsetPage, offsetPageQuery, safeText } from 'groundwork-pg';
import { z } from 'zod';
import { iso, Timestamp } from '../api.ts';
import { BATCH_STATUSES, type BatchRow } from '../schema.ts';

export const BatchCreate = z
  .object({
    userId: z.uuid(),
    name: safeText().trim().min(1).max(255),
    totalProjects: z.int().min(1).max(20),
  })
  .meta({ id: 'BatchCreate' });
export type BatchCreate = z.infer<typeof BatchCreate>;

export const BatchStatusUpdate = z
  .object({ status: z.enum(BATCH_STATUSES) })
  .meta({ id: 'BatchStatusUpdate' });

/** A batch with its aggregates, which the database keeps from its projects. */
export const BatchPublic = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    name: z.string(),
    status: z.enum(BATCH_STATUSES),
    totalProjects: z.int(),
    completedProjects: z.int(),
    averageQualityScore: z.number().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    expiresAt: Timestamp,
  })
  .meta({ id: 'BatchPublic' });
export type BatchPublic = z.infer<typeof BatchPublic>;

export const BatchListQuery = offsetPageQuery({ defaultLimit: 10, maxLimit: 100 });

/** One page of a user's batches; `count` is how many there are in all (archived ones excluded). */
export const BatchList = offsetPage(BatchPublic).meta({ id: 'BatchList' });

export const toBatchPublic = (row: BatchRow): BatchPublic => ({
  id: row.id,
  userId: row.userId,
  name: row.name,
  status: row.status,
  totalProjects: row.totalProjects,
  completedProjects: row.completedProjects,
  averageQualityScore: row.averageQualityScore,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
  expiresAt: iso(row.expiresAt),
});
