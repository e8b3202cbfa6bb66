import { asc } from 'drizzle-orm';
import { setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { userPreferences, users } from '../src/schema.ts';
import { needsVector, vector } from './support.ts';

/** Delight's accounts: a Clerk token registers only the Clerk id it names (`sub`), enforced as in production. */
describe.skipIf(!vector.available)(needsVector('delight registration'), () => {
  const t = setupTestApp(app, { credentials: true });
  const send = async (
    request: { method: 'GET' | 'POST'; url: string; payload?: Record<string, unknown> },
    headers: Record<string, string>,
  ) => t.server.inject({ ...request, headers });
  const snapshot = async () => ({
    users: await t.db.select().from(users).orderBy(asc(users.id)),
    preferences: await t.db.select().from(userPreferences).orderBy(asc(userPreferences.id)),
  });

  const register = (clerkUserId: string) => ({
    method: 'POST' as const,
    url: '/api/v1/users',
    payload: { clerk_user_id: clerkUserId, email: 'carol@example.com' },
  });

  it('registers the caller under the Clerk id their token names', async () => {
    const response = await send(register('user_2carol'), await t.userHeaders('user_2carol'));
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ clerk_user_id: 'user_2carol' });
    // From now on the same token finds its user.
    const found = await send(
      { method: 'GET', url: '/api/v1/users/by-clerk-id/user_2carol' },
      await t.userHeaders('user_2carol'),
    );
    expect(found.statusCode).toBe(200);
  });

  it('refuses a Clerk id other than the token’s with 403 naming clerk_user_id, nothing written', async () => {
    const before = await snapshot();
    const response = await send(register('user_2mallory'), await t.userHeaders('user_2carol'));
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toMatchObject({
      code: 'forbidden',
      fields: [{ field: 'clerk_user_id', message: 'must match your token' }],
    });
    expect(await snapshot()).toEqual(before);
  });
});
