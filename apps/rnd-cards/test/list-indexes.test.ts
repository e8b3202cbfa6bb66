import { sql } from 'drizzle-orm';
import { executeRows } from 'groundwork-pg';
import {
  createTestDatabase,
  expectIndexScan,
  recordingExecutor,
  type TestDatabase,
} from 'groundwork-pg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { createBatchesRepository } from '../src/batches/repository.ts';

let database: TestDatabase<typeof app.schema>;
let userId: string;

// 5,000 batches, 4,000 of them the listed user's: sorting that user's rows would cost more than reading
// the index in order, so a plan without the right index order shows as a Sort.
beforeAll(async () => {
  database = await createTestDatabase(app);
  const { db } = database.handle;
  await db.execute(sql`
    insert into users (email, name, cognito_sub)
    select 'u' || i || '@example.com', 'User ' || i, 'sub-' || i from generate_series(1, 50) i`);
  await db.execute(sql`
    insert into batches (user_id, name, total_projects, created_at)
    select u.id, 'Batch ' || i, 1 + i % 20, now() - make_interval(mins => i)
      from generate_series(1, 5000) i
      join (select id, row_number() over (order by email) - 1 as n from users) u
        on u.n = case when i <= 4000 then 0 else i % 50 end`);
  const [busiest] = await executeRows<{ user_id: string }>(
    db,
    sql`select user_id from batches group by user_id order by count(*) desc limit 1`,
  );
  userId = busiest!.user_id;
}, 180_000);

afterAll(() => database?.dispose());

describe('rnd-cards list queries use their indexes (issue 11.6)', () => {
  it('has 5,000 batches to page through', async () => {
    const [row] = await executeRows<{ n: number }>(
      database.handle.db,
      sql`select count(*)::int as n from batches`,
    );
    expect(row!.n).toBe(5000);
  });

  it('listByUser (newest first, first and later pages) is an index scan in created_at order, with no full sort', async () => {
    const { db } = database.handle;
    for (const offset of [0, 50]) {
      const recorded = recordingExecutor(db);
      const page = await createBatchesRepository(db).listByUser(
        { userId, limit: 10, offset },
        recorded.executor,
      );
      expect(page).toHaveLength(10);
      expect(page.every((batch) => batch.userId === userId)).toBe(true);
      const plan = JSON.stringify(await expectIndexScan(db, recorded.queries[0]!));
      expect(plan).toMatch(/idx_batches_(user_id_)?created_at/);
      expect(plan).not.toContain('"Node Type":"Sort"'); // an Incremental Sort of equal timestamps is fine
    }
  });
});
