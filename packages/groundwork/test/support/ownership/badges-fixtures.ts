import { eq } from 'drizzle-orm';
import type { OwnershipFixtures, TestApp } from '../../../src/testing/index.ts';
import type badges from '../badges/src/app.ts';
import { users } from '../badges/src/schema.ts';

/** describeOwnership's fixtures for the badges app: a registered user per call, matched by `sub`. */
export function badgesFixtures(
  t: TestApp<typeof badges.schema>,
): OwnershipFixtures<{ credential: string; id: string }> {
  let count = 0;
  return {
    user: async (name) => {
      const subject = `${name}-${++count}`;
      const [row] = await t.db.insert(users).values({ subject, name }).returning();
      return { credential: subject, id: row!.id };
    },
    unregistered: 'nobody-yet',
    state: async ({ id }) => t.db.select().from(users).where(eq(users.id, id)),
    requests: {
      'GET /status': () => ({ url: '/status' }),
      'GET /me': () => ({ url: '/me' }),
      // Registration under the caller's own subject: past the claim check, the subject is taken (409).
      'POST /users': ({ credential }) => ({
        method: 'POST',
        url: '/users',
        payload: { subject: credential, name: 'New' },
      }),
      'GET /users': () => ({ url: '/users' }),
      'GET /users/:id': ({ id }) => ({ url: `/users/${id}` }),
      'PATCH /users/:id': ({ id }) => ({
        method: 'PATCH',
        url: `/users/${id}`,
        payload: { name: 'Renamed' },
      }),
    },
  };
}
