import { sql } from 'drizzle-orm';
import {
  createTestDatabase,
  expectIndexScan,
  recordingExecutor,
  type TestDatabase,
} from 'groundwork-pg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { createUsersRepository } from '../src/users/repository.ts';

let database: TestDatabase<typeof app.schema>;

beforeAll(async () => {
  database = await createTestDatabase(app);
  await database.handle.db.execute(sql`
    insert into users (username, password_hash, is_blocked, created_at)
    select '\\campus\\user' || i, 'hash', i % 50 = 0, now() - make_interval(mins => i)
      from generate_series(1, 5000) i`);
}, 180_000);

afterAll(() => database?.dispose());

describe('counseling list queries use their indexes (issue 11.6), over 5,000 users', () => {
  it('the page (newest first) on the first and a later page reads idx_users_created_at_id, with no full sort', async () => {
    const { db } = database.handle;
    for (const offset of [0, 50]) {
      const recorded = recordingExecutor(db);
      const page = await createUsersRepository(db).list({ limit: 10, offset }, recorded.executor);
      expect(page.rows).toHaveLength(10);
      expect(page.total).toBe(5000);
      // The page is the first statement the repository builds; the count is the second.
      const plan = JSON.stringify(await expectIndexScan(db, recorded.queries[0]!));
      expect(plan).toContain('idx_users_created_at_id');
      expect(plan).not.toContain('"Node Type":"Sort"');
    }
  });
});
