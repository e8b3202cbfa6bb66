import { sql } from 'drizzle-orm';
import { executeRows } from 'groundwork-pg';
import { describeIndexUse } from 'groundwork-pg/testing';
import app from '../src/app.ts';
import { createSessionsRepository } from '../src/sessions/repository.ts';
import { createUsersRepository } from '../src/users/repository.ts';

let userId: number;

// Issue 11.6, over 5,000 users and 5,000 sessions (100 for each of 50 users).
describeIndexUse(app, {
  seed: async (db) => {
    await db.execute(sql`
      insert into users (email) select 'user' || i || '@example.com' from generate_series(1, 5000) i`);
    await db.execute(sql`
      insert into sessions (user_id, name, created_at)
      select u.id, 'session ' || i, now() - make_interval(mins => i)
        from generate_series(1, 5000) i join (select id from users order by id limit 50) u on u.id % 50 = i % 50`);
    const [row] = await executeRows<{ id: number }>(db, sql`select min(user_id) as id from sessions`);
    userId = Number(row!.id);
  },
  cases: {
    'listActive pages by id through the primary key': {
      run: (executor, db) => createUsersRepository(db).listActive({ limit: 10 }, executor),
      index: 'users_pkey',
    },
    'listActive after an id, through the primary key': {
      run: (executor, db) => createUsersRepository(db).listActive({ limit: 10, after: 2500 }, executor),
      index: 'users_pkey',
    },
    "listForUser reads the user's sessions through ix_sessions_user_id (a sort of that user's rows only)": {
      run: (executor, db) => createSessionsRepository(db).listForUser({ userId, limit: 10 }, executor),
      index: 'ix_sessions_user_id',
      sorts: true,
    },
  },
});
