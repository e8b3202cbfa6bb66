/** Who may call each route, from what each declares (groundwork-pg/testing's `describeOwnership`). */
import { eq } from 'drizzle-orm';
import { hashPassword } from 'groundwork-pg';
import { describeOwnership, sessionRouteRequests, sessionUser, setupTestApp } from 'groundwork-pg/testing';
import app from '../src/app.ts';
import { users } from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app, { credentials: true });
const PASSWORD = 'correct horse 1';
const passwordHash = await hashPassword(PASSWORD);
let count = 0;
const owner = (user: { id: string }) => `/api/v1/users/${user.id}`;

describeOwnership(t, {
  user: async () => {
    const email = `user${++count}@x.io`;
    const row = await createUsersRepository(t.db).create({ email, hashedPassword: passwordHash });
    return sessionUser(t, row.id, email);
  },
  state: async ({ id }) => t.db.select().from(users).where(eq(users.id, id)),
  requests: {
    ...sessionRouteRequests('/api/v1', PASSWORD, 'email'),
    'POST /api/v1/auth/password-reset': ({ login }) => ({
      method: 'POST',
      url: '/api/v1/auth/password-reset',
      payload: { email: login },
    }),
    'POST /api/v1/auth/password-reset/confirm': () => ({
      method: 'POST',
      url: '/api/v1/auth/password-reset/confirm',
      payload: { token: 'not-a-reset-token', new_password: `${PASSWORD} reset` },
    }),
    'GET /api/v1/health': () => ({ url: '/api/v1/health' }),
    'POST /api/v1/users': () => ({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: `new${++count}@x.io`, password: PASSWORD },
    }),
    'GET /api/v1/users': () => ({ url: '/api/v1/users' }),
    'GET /api/v1/users/:id': (user) => ({ url: owner(user) }),
    'PATCH /api/v1/users/:id': (user) => ({
      method: 'PATCH',
      url: owner(user),
      payload: { target_score: 9 },
    }),
  },
});
