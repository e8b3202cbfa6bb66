/** Who may call each route, from what each declares (groundwork-pg/testing's `describeOwnership`). */
import { eq } from 'drizzle-orm';
import { describeOwnership, setupTestApp } from 'groundwork-pg/testing';
import app from '../src/app.ts';
import { users } from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app, { credentials: true });
let count = 0;

describeOwnership(t, {
  user: async () => {
    const subject = `user_${++count}`;
    const values = { subject, email: `${subject}@example.com`, displayName: subject };
    const row = await createUsersRepository(t.db).create(values);
    return { credential: subject, url: `/api/v1/users/${row.id}`, id: row.id };
  },
  unregistered: 'user_nobody',
  state: async ({ id }) => t.db.select().from(users).where(eq(users.id, id)),
  requests: {
    'GET /api/v1/health': () => ({ url: '/api/v1/health' }),
    'POST /api/v1/users': ({ credential }) => ({
      method: 'POST',
      url: '/api/v1/users',
      payload: { subject: credential, email: `${credential}@example.com`, display_name: 'New' },
    }),
    'GET /api/v1/users': () => ({ url: '/api/v1/users' }),
    'GET /api/v1/users/:id': ({ url }) => ({ url }),
    'PATCH /api/v1/users/:id': ({ url }) => ({ method: 'PATCH', url, payload: { display_name: 'Renamed' } }),
    'DELETE /api/v1/users/:id': ({ url }) => ({ method: 'DELETE', url }),
  },
});
