import { and, count, desc, eq, ne, sql } from 'drizzle-orm';
import { type Bindable, type Database, type Executor, hotQuery } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { type BatchRow, type BatchStatus, batches } from '../schema.ts';

type Schema = typeof schema;

export interface CreateBatchInput {
  userId: string;
  name: string;
  totalProjects: number;
}

export interface ListBatchesInput {
  userId: string;
  limit?: number;
  offset?: number;
}

// Archived batches are kept (until expires_at) but no longer listed.
const listedBy = (userId: string) => and(eq(batches.userId, userId), ne(batches.status, 'archived'));

export function createBatchesRepository(db: Database<Schema>) {
  const byId = hotQuery(db, 'rnd_cards_batch_by_id', (executor, { id }: Bindable<{ id: string }>) =>
    executor.select().from(batches).where(eq(batches.id, id)),
  );
  const setStatus = hotQuery(
    db,
    'rnd_cards_batch_set_status',
    (executor, { id, status }: Bindable<{ id: string; status: BatchStatus }>) =>
      executor
        .update(batches)
        .set({ status: sql`${status}` })
        .where(eq(batches.id, id))
        .returning(),
  );

  return {
    /** Status starts at 'uploading'; expires_at defaults to created_at + 90 days. */
    async create(
      { userId, name, totalProjects }: CreateBatchInput,
      executor: Executor<Schema> = db,
    ): Promise<BatchRow> {
      const [row] = await executor.insert(batches).values({ userId, name, totalProjects }).returning();
      return row!;
    },

    async findById({ id }: { id: string }, executor: Executor<Schema> = db): Promise<BatchRow | undefined> {
      const [row] = await byId({ id }, executor);
      return row;
    },

    /** The user's batches except archived ones, newest first (id breaks ties so pages never overlap). */
    async listByUser(
      { userId, limit = 10, offset = 0 }: ListBatchesInput,
      executor: Executor<Schema> = db,
    ): Promise<BatchRow[]> {
      return executor
        .select()
        .from(batches)
        .where(listedBy(userId))
        .orderBy(desc(batches.createdAt), desc(batches.id))
        .limit(limit)
        .offset(offset);
    },

    /** How many batches listByUser pages through. */
    async countByUser({ userId }: { userId: string }, executor: Executor<Schema> = db): Promise<number> {
      const [row] = await executor.select({ total: count() }).from(batches).where(listedBy(userId));
      return row!.total;
    },

    async updateStatus(
      { id, status }: { id: string; status: BatchStatus },
      executor: Executor<Schema> = db,
    ): Promise<BatchRow | undefined> {
      const [row] = await setStatus({ id, status }, executor);
      return row;
    },
  };
}

export type BatchesRepository = ReturnType<typeof createBatchesRepository>;
