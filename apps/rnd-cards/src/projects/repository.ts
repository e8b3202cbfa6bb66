import { eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../database.ts';
import { type ProjectRow, type ProjectStatus, projects } from '../schema.ts';

export interface AddProjectInput {
  batchId: string;
  rowNumber: number;
  inputData: Record<string, unknown>;
  aiModel?: string | null;
}

export interface UpdateProjectInput {
  id: string;
  status?: ProjectStatus;
  /** null clears the score. */
  qualityScore?: number | null;
}

// Every write here fires the update_batch_quality_score trigger, which keeps the batch's
// average_quality_score and completed_projects true in the same statement.
export function createProjectsRepository(db: Db) {
  const byId = db
    .select()
    .from(projects)
    .where(eq(projects.id, sql.placeholder('id')))
    .prepare('rnd_cards_project_by_id');

  async function getById({ id }: { id: string }, tx?: Tx): Promise<ProjectRow | undefined> {
    const rows = tx
      ? await tx.select().from(projects).where(eq(projects.id, id))
      : await byId.execute({ id });
    return rows[0];
  }

  return {
    async add(
      { batchId, rowNumber, inputData, aiModel = null }: AddProjectInput,
      tx: Tx = db,
    ): Promise<ProjectRow> {
      const [row] = await tx.insert(projects).values({ batchId, rowNumber, inputData, aiModel }).returning();
      return row!;
    },

    getById,

    /** Changes only the fields given; undefined when no such project. */
    async update(
      { id, status, qualityScore }: UpdateProjectInput,
      tx: Tx = db,
    ): Promise<ProjectRow | undefined> {
      const changes: Partial<Pick<ProjectRow, 'status' | 'qualityScore'>> = {};
      if (status !== undefined) changes.status = status;
      if (qualityScore !== undefined) changes.qualityScore = qualityScore;
      if (Object.keys(changes).length === 0) return getById({ id }, tx);
      const [row] = await tx.update(projects).set(changes).where(eq(projects.id, id)).returning();
      return row;
    },

    /** True when a project was deleted (its content and generation metadata go with it). */
    async remove({ id }: { id: string }, tx: Tx = db): Promise<boolean> {
      const deleted = await tx.delete(projects).where(eq(projects.id, id)).returning({ id: projects.id });
      return deleted.length > 0;
    },
  };
}

export type ProjectsRepository = ReturnType<typeof createProjectsRepository>;
