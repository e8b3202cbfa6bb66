import { sql } from 'drizzle-orm';
import { describeIndexUse, pageCases } from 'groundwork-pg/testing';
import app from '../src/app.ts';
import { createUsersRepository } from '../src/users/repository.ts';

// Issue 11.6, over 5,000 users: the page (newest first) reads idx_users_created_at on the first and a later page.
describeIndexUse(app, {
  seed: async (db) => {
    await db.execute(sql`
      insert into users (email, hashed_password, created_at)
      select 'user' || i || '@example.com', 'hash', now() - make_interval(mins => i)
        from generate_series(1, 5000) i`);
  },
  cases: pageCases('idx_users_created_at', async (page, executor, db) => {
    return (await createUsersRepository(db).list(page, executor)).rows;
  }),
});
