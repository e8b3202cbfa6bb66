/** Who may call each route, from what each declares (groundwork-pg/testing's `describeOwnership`). */
import { sql } from 'drizzle-orm';
import { executeRows, generateKey } from 'groundwork-pg';
import { describeOwnership, setupTestApp } from 'groundwork-pg/testing';
import app from '../src/app.ts';

const t = setupTestApp(app, { credentials: true, env: { SECRET_KEYS: generateKey('test1') } });
let count = 0;

describeOwnership(t, {
  /** A user with sealed Gmail tokens and a session, created by an operator. */
  user: async () => {
    const email = `user${++count}@example.com`;
    const as = (method: 'POST' | 'PUT', url: string, payload: object) =>
      t.server.inject({ method, url, headers: t.adminHeaders, payload });
    const { id } = (await as('POST', '/api/v1/users', { email })).json();
    await as('PUT', `/api/v1/users/${id}/gmail-tokens`, { access_token: `a${id}`, refresh_token: `r${id}` });
    await as('POST', `/api/v1/users/${id}/sessions`, { name: 'first' });
    return { credential: email, id: id as number, url: `/api/v1/users/${id}` };
  },
  unregistered: 'nobody@example.com',
  state: async ({ id }) => ({
    user: await executeRows(t.db, sql`select * from users where id = ${id}`),
    sessions: await executeRows(t.db, sql`select * from sessions where user_id = ${id}`),
  }),
  requests: {
    'POST /api/v1/users': ({ credential }) => ({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: credential },
    }),
    'GET /api/v1/users': () => ({ url: '/api/v1/users' }),
    'GET /api/v1/users/:id': ({ url }) => ({ url }),
    'PATCH /api/v1/users/:id': ({ url }) => ({ method: 'PATCH', url, payload: { telegram_id: '42' } }),
    'DELETE /api/v1/users/:id': ({ url }) => ({ method: 'DELETE', url }),
    'PUT /api/v1/users/:id/gmail-tokens': ({ url }) => ({
      method: 'PUT',
      url: `${url}/gmail-tokens`,
      payload: { access_token: 'ya29.new-access', refresh_token: '1//new-refresh' },
    }),
    'DELETE /api/v1/users/:id/gmail-tokens': ({ url }) => ({ method: 'DELETE', url: `${url}/gmail-tokens` }),
    'POST /api/v1/users/:id/sessions': ({ url }) => ({
      method: 'POST',
      url: `${url}/sessions`,
      payload: { name: 'triage' },
    }),
    'GET /api/v1/users/:id/sessions': ({ url }) => ({ url: `${url}/sessions` }),
    'GET /api/v1/health/db': () => ({ url: '/api/v1/health/db' }),
  },
});
