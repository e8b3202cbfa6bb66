import { setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';

const t = setupTestApp(app, { credentials: true });

async function register(subject: string, as = subject) {
  return t.server.inject({
    method: 'POST',
    url: '/api/v1/users',
    headers: await t.userHeaders(as),
    payload: { subject, email: `${subject}@example.com`, display_name: subject },
  });
}

describe('users', () => {
  it('registers the token holder, and only under their own subject', async () => {
    const ada = await register('ada');
    expect(ada.statusCode).toBe(201);
    expect(ada.json()).toMatchObject({ subject: 'ada', email: 'ada@example.com', display_name: 'ada' });
    const other = await register('bob', 'ada');
    expect(other.statusCode).toBe(403);
    expect(other.json().error.fields[0].field).toBe('subject');
    expect((await register('ada')).statusCode).toBe(409);
  });

  it('reads, renames and deletes one’s own user', async () => {
    const ada = (await register('ada')).json();
    const headers = await t.userHeaders('ada');
    const url = `/api/v1/users/${ada.id}`;
    expect((await t.server.inject({ method: 'GET', url, headers })).json()).toEqual(ada);
    const renamed = await t.server.inject({
      method: 'PATCH',
      url,
      headers,
      payload: { display_name: 'Ada L' },
    });
    expect(renamed.json()).toEqual({ ...ada, display_name: 'Ada L' });
    expect((await t.server.inject({ method: 'DELETE', url, headers })).statusCode).toBe(204);
    expect((await t.server.inject({ method: 'GET', url, headers: t.adminHeaders })).statusCode).toBe(404);
  });

  it('lists users for operators, newest first, a page at a time', async () => {
    for (const subject of ['ada', 'bob', 'cyd']) await register(subject);
    const page = await t.server.inject({ url: '/api/v1/users?limit=2', headers: t.adminHeaders });
    expect(page.json()).toMatchObject({ count: 3, data: [{ subject: 'cyd' }, { subject: 'bob' }] });
  });

  it('refuses bad input with 400 naming the field', async () => {
    const headers = await t.userHeaders('ada');
    const bad = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers,
      payload: { subject: 'ada', email: 'not an email', display_name: '' },
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .error.fields.map((field: { field: string }) => field.field)
        .sort(),
    ).toEqual(['display_name', 'email']);
    const malformed = await t.server.inject({ url: '/api/v1/users/abc', headers });
    expect(malformed.json().error.fields).toEqual([{ field: 'id', message: 'id must be a UUID' }]);
  });

  it('answers health publicly: the verdict to anyone, the details to operators', async () => {
    const health = await t.server.inject({ method: 'GET', url: '/api/v1/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const details = await t.server.inject({ method: 'GET', url: '/api/v1/health', headers: t.adminHeaders });
    expect(details.json()).toMatchObject({ status: 'ok', database: 'connected' });
  });
});
