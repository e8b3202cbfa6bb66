import { asc } from 'drizzle-orm';
import { setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { users } from '../src/schema.ts';

/** R&D cards' accounts: a Cognito token registers only the subject it names, enforced as in production. */
const t = setupTestApp(app, { credentials: true });
const send = (
  request: { method: 'GET' | 'POST'; url: string; payload?: Record<string, unknown> },
  headers: Record<string, string>,
) => t.server.inject({ ...request, headers });
const snapshot = () => t.db.select().from(users).orderBy(asc(users.id));

describe('registration', () => {
  const register = (cognitoSub: string) => ({
    method: 'POST' as const,
    url: '/api/v1/users',
    payload: { email: 'carol@example.pl', name: 'Carol', cognitoSub },
  });

  it('registers the caller under the Cognito subject their token names', async () => {
    const response = await send(register('sub-carol'), await t.userHeaders('sub-carol'));
    expect(response.statusCode).toBe(201);
    // From now on the same token finds its user.
    const found = await send(
      { method: 'GET', url: `/api/v1/users/${response.json().id}` },
      await t.userHeaders('sub-carol'),
    );
    expect(found.statusCode).toBe(200);
    expect(found.json()).toMatchObject({ email: 'carol@example.pl' });
  });

  it('refuses a subject other than the token’s with 403 naming cognitoSub, nothing written', async () => {
    const before = await snapshot();
    const response = await send(register('sub-mallory'), await t.userHeaders('sub-carol'));
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toMatchObject({
      code: 'forbidden',
      fields: [{ field: 'cognitoSub', message: 'must match your token' }],
    });
    expect(await snapshot()).toEqual(before);
  });
});
