import { boundedJsonObject, nonEmptyPatch, safeText } from 'groundwork-pg';
import { z } from 'zod';
import { iso, JsonObject, Timestamp } from '../api.ts';
import { PROJECT_STATUSES, type ProjectRow } from '../schema.ts';

// numeric(5,2): more than two decimals would be rounded silently, so they are refused instead.
const QualityScore = z.number().min(0).max(100).multipleOf(0.01);

export const ProjectCreate = z
  .object({
    /** The project's position in its batch: 1 .. the batch's totalProjects. */
    rowNumber: z.int().min(1).max(20),
    /** The spreadsheet row the card is generated from. */
    /** Bounded: 32 levels, 64 KiB, no NUL, safe integers (the foundation's boundedJson). */
    inputData: boundedJsonObject(),
    aiModel: safeText().trim().min(1).max(50).nullish(),
  })
  .meta({ id: 'ProjectCreate' });
export type ProjectCreate = z.infer<typeof ProjectCreate>;

export const ProjectUpdate = nonEmptyPatch(
  z.strictObject({
    status: z.enum(PROJECT_STATUSES).optional(),
    /** null clears the score. */
    qualityScore: QualityScore.nullable().optional(),
  }),
  'give status, qualityScore or both',
).meta({ id: 'ProjectUpdate' });
export type ProjectUpdate = z.infer<typeof ProjectUpdate>;

export const ProjectPublic = z
  .object({
    id: z.uuid(),
    batchId: z.uuid(),
    rowNumber: z.int(),
    status: z.enum(PROJECT_STATUSES),
    qualityScore: z.number().nullable(),
    inputData: JsonObject,
    aiModel: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'ProjectPublic' });
export type ProjectPublic = z.infer<typeof ProjectPublic>;

export const toProjectPublic = (row: ProjectRow): ProjectPublic => ({
  id: row.id,
  batchId: row.batchId,
  rowNumber: row.rowNumber,
  status: row.status,
  qualityScore: row.qualityScore,
  inputData: row.inputData,
  aiModel: row.aiModel,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});
