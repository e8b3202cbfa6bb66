/** Who may call each route, from what each declares (groundwork-pg/testing's `describeOwnership`). */
import { eq } from 'drizzle-orm';
import { hashPassword } from 'groundwork-pg';
import { describeOwnership, sessionRouteRequests, setupTestApp } from 'groundwork-pg/testing';
import app from '../src/app.ts';
import { authSessions, users } from '../src/schema.ts';
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
    await t.userHeaders(row.id);
    const [session] = await t.db.select().from(authSessions).where(eq(authSessions.userId, row.id));
    return { credential: row.id, id: row.id, email, sessionId: session!.tokenDigest };
  },
  state: async ({ id }) => t.db.select().from(users).where(eq(users.id, id)),
  requests: {
    'POST /api/v1/auth/login': ({ email }) => ({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: PASSWORD },
    }),
    'POST /api/v1/auth/logout': () => ({ method: 'POST', url: '/api/v1/auth/logout' }),
    ...sessionRouteRequests('/api/v1', PASSWORD),
    'POST /api/v1/auth/password-reset': ({ email }) => ({
      method: 'POST',
      url: '/api/v1/auth/password-reset',
      payload: { email },
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
