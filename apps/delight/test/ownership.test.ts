/** Who may call each route, from what each declares (groundwork-pg/testing's `describeOwnership`). */
import { eq } from 'drizzle-orm';
import { describeOwnership, setupTestApp } from 'groundwork-pg/testing';
import { describe } from 'vitest';
import app from '../src/app.ts';
import { userPreferences, users } from '../src/schema.ts';
import { needsVector, vector } from './support.ts';

describe.skipIf(!vector.available)(needsVector('who may call each delight route'), () => {
  const t = setupTestApp(app, { credentials: true });
  let count = 0;

  describeOwnership(t, {
    user: async () => {
      const clerkUserId = `user_2n${++count}`;
      const [row] = await t.db
        .insert(users)
        .values({ clerkUserId, email: `${clerkUserId}@example.com` })
        .returning();
      await t.db.insert(userPreferences).values({ userId: row!.id, theme: clerkUserId });
      return { credential: clerkUserId, id: row!.id };
    },
    unregistered: 'user_2nobody',
    state: async ({ id }) => ({
      user: await t.db.select().from(users).where(eq(users.id, id)),
      preferences: await t.db.select().from(userPreferences).where(eq(userPreferences.userId, id)),
    }),
    requests: {
      'GET /api/v1/health': () => ({ url: '/api/v1/health' }),
      'POST /api/v1/users': ({ credential }) => ({
        method: 'POST',
        url: '/api/v1/users',
        payload: { clerk_user_id: credential, email: `${credential}@example.com` },
      }),
      'GET /api/v1/users/by-clerk-id/:clerkUserId': ({ credential }) => ({
        url: `/api/v1/users/by-clerk-id/${credential}`,
      }),
      'PUT /api/v1/users/:id/preferences': ({ id }) => ({
        method: 'PUT',
        url: `/api/v1/users/${id}/preferences`,
        payload: { theme: 'medieval' },
      }),
      'DELETE /api/v1/users/:id': ({ id }) => ({ method: 'DELETE', url: `/api/v1/users/${id}` }),
    },
  });
});
