import { eq } from 'drizzle-orm';
import { type Bindable, type Database, type Executor, hotQuery, hotUpdate } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { batches, type ProjectRow, type ProjectStatus, projects } from '../schema.ts';

type Schema = typeof schema;

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
export function createProjectsRepository(db: Database<Schema>) {
  const byId = hotQuery(db, 'rnd_cards_project_by_id', (executor, { id }: Bindable<{ id: string }>) =>
    executor.select().from(projects).where(eq(projects.id, id)),
  );
  // Every project route checks the owner first.
  const ownerOf = hotQuery(db, 'rnd_cards_project_owner', (executor, { id }: Bindable<{ id: string }>) =>
    executor
      .select({ userId: batches.userId })
      .from(projects)
      .innerJoin(batches, eq(batches.id, projects.batchId))
      .where(eq(projects.id, id)),
  );
  const updateOf = hotUpdate(
    db,
    'rnd_cards_project_update',
    (executor, { id }: Bindable<{ id: string }>, changes) =>
      executor.update(projects).set(changes).where(eq(projects.id, id)).returning(),
  );

  async function findById(
    { id }: { id: string },
    executor: Executor<Schema> = db,
  ): Promise<ProjectRow | undefined> {
    const [row] = await byId({ id }, executor);
    return row;
  }

  return {
    async add(
      { batchId, rowNumber, inputData, aiModel = null }: AddProjectInput,
      executor: Executor<Schema> = db,
    ): Promise<ProjectRow> {
      const [row] = await executor
        .insert(projects)
        .values({ batchId, rowNumber, inputData, aiModel })
        .returning();
      return row!;
    },

    findById,

    /** The user a project belongs to, through its batch; undefined when no such project. */
    async findOwnerId({ id }: { id: string }): Promise<string | undefined> {
      const [row] = await ownerOf({ id });
      return row?.userId;
    },

    /** Changes only the fields given; undefined when no such project. */
    async update(
      { id, status, qualityScore }: UpdateProjectInput,
      executor: Executor<Schema> = db,
    ): Promise<ProjectRow | undefined> {
      const changes: Partial<Pick<ProjectRow, 'status' | 'qualityScore'>> = {};
      if (status !== undefined) changes.status = status;
      if (qualityScore !== undefined) changes.qualityScore = qualityScore;
      if (Object.keys(changes).length === 0) return findById({ id }, executor);
      const [row] = await updateOf({ id }, changes, executor);
      return row;
    },

    /** True when a project was deleted (its content and generation metadata go with it). */
    async remove({ id }: { id: string }, executor: Executor<Schema> = db): Promise<boolean> {
      const deleted = await executor
        .delete(projects)
        .where(eq(projects.id, id))
        .returning({ id: projects.id });
      return deleted.length > 0;
    },
  };
}

export type ProjectsRepository = ReturnType<typeof createProjectsRepository>;
