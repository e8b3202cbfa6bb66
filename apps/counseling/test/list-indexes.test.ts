import { sql } from 'drizzle-orm';
import { describeIndexUse, pageCases } from 'groundwork-pg/testing';
import app from '../src/app.ts';
import { createUsersRepository } from '../src/users/repository.ts';

// Issue 11.6, over 5,000 users: the page (newest first) reads idx_users_created_at_id on the first and a later page.
describeIndexUse(app, {
  seed: async (db) => {
    await db.execute(sql`
      insert into users (username, password_hash, is_blocked, created_at)
      select '\\campus\\user' || i, 'hash', i % 50 = 0, now() - make_interval(mins => i)
        from generate_series(1, 5000) i`);
  },
  cases: pageCases('idx_users_created_at_id', async (page, executor, db) => {
    return (await createUsersRepository(db).list(page, executor)).rows;
  }),
});
