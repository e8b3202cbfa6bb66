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
import { createSessionsRepository } from '../src/sessions/repository.ts';
import { createUsersRepository } from '../src/users/repository.ts';

let database: TestDatabase<typeof app.schema>;
let userId: number;

// 5,000 users and 5,000 sessions (100 for each of 50 users)
beforeAll(async () => {
  database = await createTestDatabase(app);
  const { db } = database.handle;
  await db.execute(sql`
    insert into users (email) select 'user' || i || '@example.com' from generate_series(1, 5000) i`);
  await db.execute(sql`
    insert into sessions (user_id, name, created_at)
    select u.id, 'session ' || i, now() - make_interval(mins => i)
      from generate_series(1, 5000) i join (select id from users order by id limit 50) u on u.id % 50 = i % 50`);
  const [row] = await executeRows<{ id: number }>(db, sql`select min(user_id) as id from sessions`);
  userId = Number(row!.id);
}, 180_000);

afterAll(() => database?.dispose());

describe('mail-agent list queries use their indexes (issue 11.6)', () => {
  it('listActive pages by id through the primary key', async () => {
    const { db } = database.handle;
    for (const after of [undefined, 2500]) {
      const recorded = recordingExecutor(db);
      expect(
        await createUsersRepository(db).listActive({ limit: 10, after }, recorded.executor),
      ).toHaveLength(10);
      expect(JSON.stringify(await expectIndexScan(db, recorded.queries[0]!))).toContain('users_pkey');
    }
  });

  it("listForUser reads the user's sessions through ix_sessions_user_id (a sort of that user's rows only)", async () => {
    const { db } = database.handle;
    const recorded = recordingExecutor(db);
    expect(
      await createSessionsRepository(db).listForUser({ userId, limit: 10 }, recorded.executor),
    ).toHaveLength(10);
    expect(JSON.stringify(await expectIndexScan(db, recorded.queries[0]!))).toContain('ix_sessions_user_id');
  });
});
