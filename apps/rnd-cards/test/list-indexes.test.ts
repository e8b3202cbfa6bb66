import { sql } from 'drizzle-orm';
import { executeRows } from 'groundwork-pg';
import { describeIndexUse } from 'groundwork-pg/testing';
import app from '../src/app.ts';
import { createBatchesRepository } from '../src/batches/repository.ts';

let userId: string;

// Issue 11.6: 5,000 batches, 4,000 of them the listed user's: sorting that user's rows would cost more than
// reading the index in order, so a plan without the right index order shows as a Sort.
describeIndexUse(app, {
  seed: async (db) => {
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
  },
  cases: Object.fromEntries(
    [0, 50].map((offset) => [
      `listByUser (newest first) at offset ${offset}: the user's rows only, in created_at order`,
      {
        run: async (executor, db) => {
          const page = await createBatchesRepository(db).listByUser({ userId, limit: 10, offset }, executor);
          if (page.some((batch) => batch.userId !== userId)) throw new Error('another user’s batch listed');
          return page;
        },
        index: /idx_batches_(user_id_)?created_at/,
      },
    ]),
  ),
});
