import { and, count, desc, eq, ne, sql } from 'drizzle-orm';
import type { Db, Tx } from '../database.ts';
import { type BatchRow, type BatchStatus, batches } from '../schema.ts';

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

export function createBatchesRepository(db: Db) {
  const byId = db
    .select()
    .from(batches)
    .where(eq(batches.id, sql.placeholder('id')))
    .prepare('rnd_cards_batch_by_id');

  return {
    /** Status starts at 'uploading'; expires_at defaults to created_at + 90 days. */
    async create({ userId, name, totalProjects }: CreateBatchInput, tx: Tx = db): Promise<BatchRow> {
      const [row] = await tx.insert(batches).values({ userId, name, totalProjects }).returning();
      return row!;
    },

    async getById({ id }: { id: string }, tx?: Tx): Promise<BatchRow | undefined> {
      const rows = tx
        ? await tx.select().from(batches).where(eq(batches.id, id))
        : await byId.execute({ id });
      return rows[0];
    },

    /** The user's batches except archived ones, newest first (id breaks ties so pages never overlap). */
    async listByUser({ userId, limit = 10, offset = 0 }: ListBatchesInput, tx: Tx = db): Promise<BatchRow[]> {
      return tx
        .select()
        .from(batches)
        .where(listedBy(userId))
        .orderBy(desc(batches.createdAt), desc(batches.id))
        .limit(limit)
        .offset(offset);
    },

    /** How many batches listByUser pages through. */
    async countByUser({ userId }: { userId: string }, tx: Tx = db): Promise<number> {
      const [row] = await tx.select({ total: count() }).from(batches).where(listedBy(userId));
      return row!.total;
    },

    async updateStatus(
      { id, status }: { id: string; status: BatchStatus },
      tx: Tx = db,
    ): Promise<BatchRow | undefined> {
      const [row] = await tx.update(batches).set({ status }).where(eq(batches.id, id)).returning();
      return row;
    },
  };
}

export type BatchesRepository = ReturnType<typeof createBatchesRepository>;
