import { asc } from 'drizzle-orm';
import { setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { type UserRow, userPreferences, users } from '../src/schema.ts';
import { needsVector, vector } from './support.ts';

/**
 * Who may call each route (issue 14), with authentication enforced as in production: Clerk tokens from the
 * test issuer (`sub` = clerk_user_id) and an operator key. Ada and Bob are registered; every case acts on
 * Bob's rows, so Ada is the stranger and Bob the owner.
 */
describe.skipIf(!vector.available)(needsVector('who may call each delight route'), () => {
  const t = setupTestApp(app, { credentials: true });

  interface Seeded {
    ada: UserRow;
    bob: UserRow;
  }
  interface Request {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    url: string;
    payload?: Record<string, unknown>;
  }
  interface RouteCase {
    /** As Fastify registered it. */
    route: string;
    /** public: no credential; registration: the body names the caller; owned: Bob's rows. */
    access: 'public' | 'registration' | 'owned';
    request(seeded: Seeded): Request;
    /** The status when the owner, or an operator, sends the request. */
    ok: number;
  }

  const cases: RouteCase[] = [
    {
      route: 'GET /api/v1/health',
      access: 'public',
      request: () => ({ method: 'GET', url: '/api/v1/health' }),
      ok: 200,
    },
    {
      route: 'POST /api/v1/users',
      access: 'registration',
      request: () => ({
        method: 'POST',
        url: '/api/v1/users',
        payload: { clerk_user_id: 'user_2carol', email: 'carol@example.com' },
      }),
      ok: 201,
    },
    {
      route: 'GET /api/v1/users/by-clerk-id/:clerkUserId',
      access: 'owned',
      request: ({ bob }) => ({ method: 'GET', url: `/api/v1/users/by-clerk-id/${bob.clerkUserId}` }),
      ok: 200,
    },
    {
      route: 'PUT /api/v1/users/:id/preferences',
      access: 'owned',
      request: ({ bob }) => ({
        method: 'PUT',
        url: `/api/v1/users/${bob.id}/preferences`,
        payload: { theme: 'medieval', onboarding_completed: true },
      }),
      ok: 200,
    },
    {
      route: 'DELETE /api/v1/users/:id',
      access: 'owned',
      request: ({ bob }) => ({ method: 'DELETE', url: `/api/v1/users/${bob.id}` }),
      ok: 204,
    },
  ];
  const withCredential = cases.filter((c) => c.access !== 'public');
  const owned = cases.filter((c) => c.access === 'owned');

  async function seed(): Promise<Seeded> {
    const [ada, bob] = await t.db
      .insert(users)
      .values([
        { clerkUserId: 'user_2ada', email: 'ada@example.com' },
        { clerkUserId: 'user_2bob', email: 'bob@example.com' },
      ])
      .returning();
    await t.db.insert(userPreferences).values([
      { userId: ada!.id, theme: 'ada' },
      { userId: bob!.id, theme: 'bob' },
    ]);
    return { ada: ada!, bob: bob! };
  }

  /** Every row of both tables, to show a refused request wrote nothing. */
  const snapshot = async () => ({
    users: await t.db.select().from(users).orderBy(asc(users.id)),
    preferences: await t.db.select().from(userPreferences).orderBy(asc(userPreferences.id)),
  });

  const send = async (request: Request, headers: Record<string, string> = {}) =>
    t.server.inject({ ...request, headers });

  it('covers every route the server registered for the app', () => {
    expect([...t.routes].sort()).toEqual(cases.map((c) => c.route).sort());
  });

  it.each(cases.filter((c) => c.access === 'public'))('$route is public', async (c) => {
    expect((await send(c.request(await seed()))).statusCode).toBe(c.ok);
  });

  it.each(withCredential)(
    '$route: no credential is a 401 with WWW-Authenticate, nothing written',
    async (c) => {
      const seeded = await seed();
      const before = await snapshot();
      const response = await send(c.request(seeded));
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.json().error.code).toBe('unauthorized');
      expect(await snapshot()).toEqual(before);
    },
  );

  it.each(owned)("$route: Ada on Bob's rows is a 404, nothing written", async (c) => {
    const seeded = await seed();
    const before = await snapshot();
    const response = await send(c.request(seeded), await t.userHeaders(seeded.ada.clerkUserId));
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toEqual({ code: 'not_found', message: 'User not found' });
    expect(await snapshot()).toEqual(before);
  });

  it.each(owned)('$route: a token whose subject has not registered is a 404, nothing written', async (c) => {
    const seeded = await seed();
    const before = await snapshot();
    const response = await send(c.request(seeded), await t.userHeaders('user_2nobody'));
    expect(response.statusCode).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it.each(owned)('$route: Bob on his own rows works', async (c) => {
    const seeded = await seed();
    const response = await send(c.request(seeded), await t.userHeaders(seeded.bob.clerkUserId));
    expect(response.statusCode, response.body).toBe(c.ok);
  });

  it.each(cases)('$route: the operator key works', async (c) => {
    const response = await send(c.request(await seed()), t.adminHeaders);
    expect(response.statusCode, response.body).toBe(c.ok);
  });

  describe('what the owner’s requests did', () => {
    it('Bob reads himself with his preferences, replaces them, then deletes himself; Ada is untouched', async () => {
      const { ada, bob } = await seed();
      const asBob = await t.userHeaders(bob.clerkUserId);
      const read = await send({ method: 'GET', url: `/api/v1/users/by-clerk-id/${bob.clerkUserId}` }, asBob);
      expect(read.json()).toMatchObject({
        id: bob.id,
        email: 'bob@example.com',
        preferences: { theme: 'bob' },
      });
      const put = await send(
        { method: 'PUT', url: `/api/v1/users/${bob.id}/preferences`, payload: { theme: 'medieval' } },
        asBob,
      );
      expect(put.json()).toMatchObject({ user_id: bob.id, theme: 'medieval' });
      expect((await send({ method: 'DELETE', url: `/api/v1/users/${bob.id}` }, asBob)).statusCode).toBe(204);
      const left = await snapshot();
      expect(left.users.map((u) => u.id)).toEqual([ada.id]);
      expect(left.preferences.map((p) => [p.userId, p.theme])).toEqual([[ada.id, 'ada']]);
    });
  });

  describe('registration', () => {
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
      await seed();
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

  it('refuses an invalid token with 401 invalid_token', async () => {
    const { bob } = await seed();
    const response = await send(
      { method: 'GET', url: `/api/v1/users/by-clerk-id/${bob.clerkUserId}` },
      { authorization: 'Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyXzJib2IifQ.c2lnbmF0dXJl' },
    );
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });
});
