/**
 * Who may call each route (issue 14), with credentials enforced as in production: no credential → 401, a
 * user reaches only their own row (another's → 404 and nothing written), operators reach every route, and
 * the list of users is theirs alone. Plus the login → call → logout flow on the real app.
 */
import { eq } from 'drizzle-orm';
import { hashPassword } from 'groundwork-pg';
import { setupTestApp } from 'groundwork-pg/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { authSessions, users } from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app, { credentials: true });

/** Who may call each route: `own` is any user, on their own row only. */
const ROUTES = {
  'POST /api/v1/auth/login': 'public',
  'POST /api/v1/auth/logout': 'user',
  'POST /api/v1/auth/logout-all': 'session',
  'GET /api/v1/auth/sessions': 'session',
  'DELETE /api/v1/auth/sessions/:id': 'session',
  'POST /api/v1/auth/password': 'session',
  'POST /api/v1/auth/password-reset': 'public',
  'POST /api/v1/auth/password-reset/confirm': 'public',
  'GET /api/v1/health': 'public',
  'POST /api/v1/users': 'public',
  'GET /api/v1/users': 'admin',
  'GET /api/v1/users/:id': 'own',
  'PATCH /api/v1/users/:id': 'own',
} as const;

const PASSWORD = 'correct horse 1';
let passwordHash: string;
beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD);
});

const createUser = (email: string) =>
  createUsersRepository(t.db).create({ email, hashedPassword: passwordHash });
const rowOf = async (id: string) => (await t.db.select().from(users).where(eq(users.id, id)))[0];

/**
 * Logins come from an address of their own per call, and each test logs in a user of its own: the per-IP
 * and per-account login limits (one server serves the whole file on PGlite) are not what these tests check.
 */
let client = 0;
const login = (email: string, password = PASSWORD) =>
  t.server.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
    remoteAddress: `198.51.100.${++client % 250}`,
  });

type Headers = Record<string, string>;
const getUser = (id: string, headers: Headers = {}) =>
  t.server.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers });
const patchUser = (id: string, headers: Headers = {}) =>
  t.server.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers, payload: { target_score: 99 } });
const listUsers = (headers: Headers = {}) =>
  t.server.inject({ method: 'GET', url: '/api/v1/users', headers });
const logout = (headers: Headers = {}) =>
  t.server.inject({ method: 'POST', url: '/api/v1/auth/logout', headers });
const logoutAll = (headers: Headers = {}) =>
  t.server.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers });
const mySessions = (headers: Headers = {}) =>
  t.server.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers });
const endSession = (id: string, headers: Headers = {}) =>
  t.server.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${id}`, headers });
const changePassword = (headers: Headers = {}) =>
  t.server.inject({
    method: 'POST',
    url: '/api/v1/auth/password',
    headers,
    payload: { current_password: PASSWORD, new_password: 'a new long secret' },
  });
const requestReset = (headers: Headers = {}) =>
  t.server.inject({
    method: 'POST',
    url: '/api/v1/auth/password-reset',
    headers,
    payload: { email: 'ann@x.io' },
  });
const confirmReset = (headers: Headers = {}) =>
  t.server.inject({
    method: 'POST',
    url: '/api/v1/auth/password-reset/confirm',
    headers,
    payload: { token: 'not-a-token', new_password: 'a new long secret' },
  });
const SOME_SESSION = 'f'.repeat(64);

describe('route coverage', () => {
  it('has a case for every route the server registered, and no other', () => {
    expect([...t.routes].sort()).toEqual(Object.keys(ROUTES).sort());
  });
});

describe('without a credential', () => {
  it('answers 401 with WWW-Authenticate: Bearer on every route that is not public, writing nothing', async () => {
    const ann = await createUser('ann@x.io');
    const before = await rowOf(ann.id);
    const calls = {
      'POST /api/v1/auth/logout': () => logout(),
      'POST /api/v1/auth/logout-all': () => logoutAll(),
      'GET /api/v1/auth/sessions': () => mySessions(),
      'DELETE /api/v1/auth/sessions/:id': () => endSession(SOME_SESSION),
      'POST /api/v1/auth/password': () => changePassword(),
      'GET /api/v1/users': () => listUsers(),
      'GET /api/v1/users/:id': () => getUser(ann.id),
      'PATCH /api/v1/users/:id': () => patchUser(ann.id),
    };
    expect(Object.keys(calls).sort()).toEqual(
      Object.entries(ROUTES)
        .filter(([, access]) => access !== 'public')
        .map(([route]) => route)
        .sort(),
    );
    for (const [route, call] of Object.entries(calls)) {
      const response = await call();
      expect(response.statusCode, route).toBe(401);
      expect(response.headers['www-authenticate'], route).toBe('Bearer');
      expect(response.json().error.code, route).toBe('unauthorized');
    }
    expect(await rowOf(ann.id)).toEqual(before);
  });

  it('serves the public routes: health, registration and login', async () => {
    expect((await t.server.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
    const registered = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'new@x.io', password: PASSWORD },
    });
    expect(registered.statusCode).toBe(201);
    expect((await login('new@x.io')).statusCode).toBe(200);
  });
});

describe('a user', () => {
  it('reads and changes their own row', async () => {
    const ann = await createUser('ann@x.io');
    const headers = await t.userHeaders(ann.id);
    const read = await getUser(ann.id, headers);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: ann.id, email: 'ann@x.io' });
    const changed = await patchUser(ann.id, headers);
    expect(changed.statusCode).toBe(200);
    expect(changed.json().target_score).toBe(99);
    expect((await rowOf(ann.id))?.targetScore).toBe(99);
  });

  it('gets 404 for another user’s row, as for a missing one, and changes nothing', async () => {
    const ann = await createUser('ann@x.io');
    const bob = await createUser('bob@x.io');
    const before = await rowOf(bob.id);
    const headers = await t.userHeaders(ann.id);
    const missing = await getUser('00000000-0000-4000-8000-000000000000', headers);
    for (const response of [await getUser(bob.id, headers), await patchUser(bob.id, headers)]) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toEqual(missing.json().error);
      expect(response.body).not.toContain('bob@x.io');
    }
    expect(await rowOf(bob.id)).toEqual(before);
  });

  it('gets 403 on the list of users, which is for operators', async () => {
    const ann = await createUser('ann@x.io');
    const response = await listUsers(await t.userHeaders(ann.id));
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('forbidden');
  });

  it('lists and ends only their own sessions, and changes only their own password', async () => {
    const ann = await createUser('ann2@x.io');
    const bob = await createUser('bob2@x.io');
    const annHeaders = { authorization: `Bearer ${(await login('ann2@x.io')).json().token}` };
    const bobHeaders = { authorization: `Bearer ${(await login('bob2@x.io')).json().token}` };
    expect((await mySessions(annHeaders)).json()).toHaveLength(1);
    const [bobSession] = await t.db.select().from(authSessions).where(eq(authSessions.userId, bob.id));
    expect((await endSession(bobSession!.tokenDigest, annHeaders)).statusCode).toBe(404);
    expect((await changePassword(annHeaders)).statusCode).toBe(204);
    expect((await login('bob2@x.io')).statusCode).toBe(200);
    expect((await logoutAll(annHeaders)).statusCode).toBe(204);
    expect(await t.db.select().from(authSessions).where(eq(authSessions.userId, ann.id))).toEqual([]);
    expect((await mySessions(bobHeaders)).statusCode).toBe(200);
  });

  it('logs out only their own session', async () => {
    const ann = await createUser('ann@x.io');
    const bob = await createUser('bob@x.io');
    const annHeaders = await t.userHeaders(ann.id);
    const bobHeaders = await t.userHeaders(bob.id);
    expect((await logout(annHeaders)).statusCode).toBe(204);
    expect((await getUser(ann.id, annHeaders)).statusCode).toBe(401);
    expect((await getUser(bob.id, bobHeaders)).statusCode).toBe(200);
  });
});

describe('the operator key', () => {
  it('works on every route', async () => {
    const ann = await createUser('ann@x.io');
    const admin = t.adminHeaders;
    const calls = {
      'POST /api/v1/auth/login': () =>
        t.server.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          headers: admin,
          payload: { email: 'ann@x.io', password: PASSWORD },
        }),
      'POST /api/v1/auth/logout': () => logout(admin),
      'POST /api/v1/auth/logout-all': () => logoutAll(admin),
      'GET /api/v1/auth/sessions': () => mySessions(admin),
      'DELETE /api/v1/auth/sessions/:id': () => endSession(SOME_SESSION, admin),
      'POST /api/v1/auth/password': () => changePassword(admin),
      'POST /api/v1/auth/password-reset': () => requestReset(admin),
      'POST /api/v1/auth/password-reset/confirm': () => confirmReset(admin),
      'GET /api/v1/health': () => t.server.inject({ url: '/api/v1/health', headers: admin }),
      'POST /api/v1/users': () =>
        t.server.inject({
          method: 'POST',
          url: '/api/v1/users',
          headers: admin,
          payload: { email: 'made-by-support@x.io', password: PASSWORD },
        }),
      'GET /api/v1/users': () => listUsers(admin),
      'GET /api/v1/users/:id': () => getUser(ann.id, admin),
      'PATCH /api/v1/users/:id': () => patchUser(ann.id, admin),
    };
    expect(Object.keys(calls).sort()).toEqual(Object.keys(ROUTES).sort());
    const statuses: Record<string, number> = {};
    for (const [route, call] of Object.entries(calls)) statuses[route] = (await call()).statusCode;
    expect(statuses).toEqual({
      'POST /api/v1/auth/login': 200,
      'POST /api/v1/auth/logout': 204,
      // An operator key is not a login session: it has no sessions or password of its own to manage.
      'POST /api/v1/auth/logout-all': 403,
      'GET /api/v1/auth/sessions': 403,
      'DELETE /api/v1/auth/sessions/:id': 403,
      'POST /api/v1/auth/password': 403,
      'POST /api/v1/auth/password-reset': 202,
      'POST /api/v1/auth/password-reset/confirm': 400,
      'GET /api/v1/health': 200,
      'POST /api/v1/users': 201,
      'GET /api/v1/users': 200,
      'GET /api/v1/users/:id': 200,
      'PATCH /api/v1/users/:id': 200,
    });
    expect((await rowOf(ann.id))?.targetScore).toBe(99);
  });
});

describe('login sessions on the app', () => {
  it('logs in by email in any letter case, calls with the token, logs out, and the token is then refused', async () => {
    const ann = await createUser('ann@x.io');
    const response = await login(' Ann@X.io ');
    expect(response.statusCode).toBe(200);
    const { token, expires_at } = response.json();
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
    const headers = { authorization: `Bearer ${token}` };

    expect((await getUser(ann.id, headers)).json()).toMatchObject({ id: ann.id });
    expect((await logout(headers)).statusCode).toBe(204);
    const after = await getUser(ann.id, headers);
    expect(after.statusCode).toBe(401);
    expect(after.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(await t.db.select().from(authSessions)).toEqual([]);
  });

  it('answers a wrong password and an unknown email alike with 401, opening no session', async () => {
    await createUser('kim@x.io');
    const wrong = await login('kim@x.io', 'wrong horse 1');
    const unknown = await login('nobody@x.io');
    for (const response of [wrong, unknown]) {
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toMatchObject({
        code: 'unauthorized',
        message: 'wrong email or password',
      });
    }
    expect(await t.db.select().from(authSessions)).toEqual([]);
  });

  it('refuses an expired session with 401', async () => {
    const ned = await createUser('ned@x.io');
    const { token } = (await login('ned@x.io')).json();
    await t.db.update(authSessions).set({ expiresAt: new Date(Date.now() - 1000) });
    const response = await getUser(ned.id, { authorization: `Bearer ${token}` });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('ends a user’s sessions when the user is deleted (the foreign key cascades)', async () => {
    const ann = await createUser('ann@x.io');
    await t.userHeaders(ann.id);
    await t.db.delete(users).where(eq(users.id, ann.id));
    expect(await t.db.select().from(authSessions)).toEqual([]);
  });
});

describe('registration', () => {
  it('is limited per IP: 429 with Retry-After in the error shape, and the refused request writes nothing', async () => {
    const register = (n: number) =>
      t.server.inject({
        method: 'POST',
        url: '/api/v1/users',
        payload: { email: `flood${n}@x.io`, password: PASSWORD },
        remoteAddress: '203.0.113.9',
      });
    for (let n = 0; n < 20; n++) expect((await register(n)).statusCode).toBe(201);
    const refused = await register(20);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json().error.code).toBe('rate_limited');
    expect(await createUsersRepository(t.db).findByEmail({ email: 'flood20@x.io' })).toBeUndefined();
  });
});
