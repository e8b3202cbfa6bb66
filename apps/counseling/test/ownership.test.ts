/**
 * Who may call each route (issue 14), with credentials enforced as in production: no credential → 401, a
 * user reads only their own row (another's → 404), and listing and blocking users are for operators only,
 * whose key works on every route. Plus login → call → logout, blocked users and blocking on the real app.
 */
import { eq } from 'drizzle-orm';
import { hashPassword } from 'groundwork-pg';
import { setupTestApp } from 'groundwork-pg/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { authSessions, users } from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app, { credentials: true });

/** Who may call each route: `own` is any user, on their own row only; `session` a user's own login session. */
const ROUTES = {
  'POST /api/v1/auth/login': 'public',
  'POST /api/v1/auth/logout': 'user',
  'POST /api/v1/auth/logout-all': 'session',
  'GET /api/v1/auth/sessions': 'session',
  'DELETE /api/v1/auth/sessions/:id': 'session',
  'POST /api/v1/auth/password': 'session',
  'GET /health': 'public',
  'POST /api/v1/users': 'public',
  'GET /api/v1/users': 'admin',
  'GET /api/v1/users/:id': 'own',
  'PATCH /api/v1/users/:id': 'admin',
} as const;

const PASSWORD = 'correct horse';
let passwordHash: string;
beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD);
});

const createUser = (username: string) => createUsersRepository(t.db).create({ username, passwordHash });
const rowOf = async (id: string) => (await t.db.select().from(users).where(eq(users.id, id)))[0];
const sessionsOf = (id: string) => t.db.select().from(authSessions).where(eq(authSessions.userId, id));

/**
 * Logins come from an address of their own per call, and each test logs in a user of its own: the per-IP
 * and per-account login limits (one server serves the whole file on PGlite) are not what these tests check.
 */
let client = 0;
const login = (username: string, password = PASSWORD) =>
  t.server.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
    remoteAddress: `198.51.100.${++client % 250}`,
  });

type Headers = Record<string, string>;
const getUser = (id: string, headers: Headers = {}) =>
  t.server.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers });
const block = (id: string, headers: Headers = {}, is_blocked = true) =>
  t.server.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers, payload: { is_blocked } });
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
const changePassword = (headers: Headers = {}, current = PASSWORD, next = 'a new long secret') =>
  t.server.inject({
    method: 'POST',
    url: '/api/v1/auth/password',
    headers,
    payload: { current_password: current, new_password: next },
  });
const SOME_SESSION = 'f'.repeat(64);

describe('route coverage', () => {
  it('has a case for every route the server registered, and no other', () => {
    expect([...t.routes].sort()).toEqual(Object.keys(ROUTES).sort());
  });
});

describe('without a credential', () => {
  it('answers 401 with WWW-Authenticate: Bearer on every route that is not public, writing nothing', async () => {
    const ann = await createUser('\\campus\\ann');
    const before = await rowOf(ann.id);
    const calls = {
      'POST /api/v1/auth/logout': () => logout(),
      'POST /api/v1/auth/logout-all': () => logoutAll(),
      'GET /api/v1/auth/sessions': () => mySessions(),
      'DELETE /api/v1/auth/sessions/:id': () => endSession(SOME_SESSION),
      'POST /api/v1/auth/password': () => changePassword(),
      'GET /api/v1/users': () => listUsers(),
      'GET /api/v1/users/:id': () => getUser(ann.id),
      'PATCH /api/v1/users/:id': () => block(ann.id),
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
    expect((await t.server.inject({ url: '/health' })).statusCode).toBe(200);
    const registered = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: '\\campus\\new', password: PASSWORD },
    });
    expect(registered.statusCode).toBe(201);
    expect((await login('\\campus\\new')).statusCode).toBe(200);
  });
});

describe('a user', () => {
  it('reads their own row', async () => {
    const ann = await createUser('\\campus\\ann');
    const response = await getUser(ann.id, await t.userHeaders(ann.id));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: ann.id, username: '\\campus\\ann', is_blocked: false });
  });

  it('gets 404 for another user’s row, as for a missing one', async () => {
    const ann = await createUser('\\campus\\ann');
    const bob = await createUser('\\campus\\bob');
    const headers = await t.userHeaders(ann.id);
    const missing = await getUser('00000000-0000-4000-8000-000000000000', headers);
    const other = await getUser(bob.id, headers);
    expect(other.statusCode).toBe(404);
    expect(other.json().error).toEqual(missing.json().error);
    expect(other.body).not.toContain('bob');
  });

  it('gets 403 on the operators’ routes: the list, and blocking or unblocking anyone, itself included', async () => {
    const ann = await createUser('\\campus\\ann');
    const bob = await createUser('\\campus\\bob');
    const before = [await rowOf(ann.id), await rowOf(bob.id)];
    const headers = await t.userHeaders(ann.id);
    for (const response of [
      await listUsers(headers),
      await block(bob.id, headers),
      await block(ann.id, headers),
      await block(ann.id, headers, false),
    ]) {
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('forbidden');
    }
    expect([await rowOf(ann.id), await rowOf(bob.id)]).toEqual(before);
    expect(await sessionsOf(ann.id)).toHaveLength(1);
  });

  it('lists and ends only their own sessions, and changes only their own password', async () => {
    const ann = await createUser('\\campus\\ann2');
    const bob = await createUser('\\campus\\bob2');
    const annHeaders = { authorization: `Bearer ${(await login('\\campus\\ann2')).json().token}` };
    const bobHeaders = { authorization: `Bearer ${(await login('\\campus\\bob2')).json().token}` };
    const annSessions = (await mySessions(annHeaders)).json();
    expect(annSessions).toHaveLength(1);
    const [bobSession] = await sessionsOf(bob.id);
    expect((await endSession(bobSession!.tokenDigest, annHeaders)).statusCode).toBe(404);
    expect(await sessionsOf(bob.id)).toHaveLength(1);
    expect((await changePassword(annHeaders)).statusCode).toBe(204);
    expect((await login('\\campus\\bob2')).statusCode).toBe(200);
    expect((await logoutAll(annHeaders)).statusCode).toBe(204);
    expect(await sessionsOf(ann.id)).toEqual([]);
    expect((await mySessions(bobHeaders)).statusCode).toBe(200);
  });

  it('logs out only their own session', async () => {
    const ann = await createUser('\\campus\\ann');
    const bob = await createUser('\\campus\\bob');
    const annHeaders = await t.userHeaders(ann.id);
    const bobHeaders = await t.userHeaders(bob.id);
    expect((await logout(annHeaders)).statusCode).toBe(204);
    expect((await getUser(ann.id, annHeaders)).statusCode).toBe(401);
    expect((await getUser(bob.id, bobHeaders)).statusCode).toBe(200);
  });
});

describe('the operator key', () => {
  it('works on every route', async () => {
    const ann = await createUser('\\campus\\ann');
    const admin = t.adminHeaders;
    const calls = {
      'POST /api/v1/auth/login': () =>
        t.server.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          headers: admin,
          payload: { username: '\\campus\\ann', password: PASSWORD },
        }),
      'POST /api/v1/auth/logout': () => logout(admin),
      'POST /api/v1/auth/logout-all': () => logoutAll(admin),
      'GET /api/v1/auth/sessions': () => mySessions(admin),
      'DELETE /api/v1/auth/sessions/:id': () => endSession(SOME_SESSION, admin),
      'POST /api/v1/auth/password': () => changePassword(admin),
      'GET /health': () => t.server.inject({ url: '/health', headers: admin }),
      'POST /api/v1/users': () =>
        t.server.inject({
          method: 'POST',
          url: '/api/v1/users',
          headers: admin,
          payload: { username: '\\support\\made', password: PASSWORD },
        }),
      'GET /api/v1/users': () => listUsers(admin),
      'GET /api/v1/users/:id': () => getUser(ann.id, admin),
      'PATCH /api/v1/users/:id': () => block(ann.id, admin),
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
      'GET /health': 200,
      'POST /api/v1/users': 201,
      'GET /api/v1/users': 200,
      'GET /api/v1/users/:id': 200,
      'PATCH /api/v1/users/:id': 200,
    });
    expect((await rowOf(ann.id))?.isBlocked).toBe(true);
  });
});

describe('login sessions on the app', () => {
  it('logs in by username in any letter case, calls with the token, logs out, and the token is then refused', async () => {
    const jdoe = await createUser('\\campus\\jdoe');
    const response = await login('\\CAMPUS\\JDoe');
    expect(response.statusCode).toBe(200);
    const { token, expires_at } = response.json();
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
    const headers = { authorization: `Bearer ${token}` };

    expect((await getUser(jdoe.id, headers)).json()).toMatchObject({ id: jdoe.id });
    expect((await logout(headers)).statusCode).toBe(204);
    const after = await getUser(jdoe.id, headers);
    expect(after.statusCode).toBe(401);
    expect(after.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(await sessionsOf(jdoe.id)).toEqual([]);
  });

  it('answers a wrong password and an unknown username alike with 401, opening no session', async () => {
    await createUser('\\campus\\kim');
    const wrong = await login('\\campus\\kim', 'wrong horse');
    const unknown = await login('\\campus\\nobody');
    for (const response of [wrong, unknown]) {
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toMatchObject({
        code: 'unauthorized',
        message: 'wrong username or password',
      });
    }
    expect(await t.db.select().from(authSessions)).toEqual([]);
  });

  it('refuses a blocked user with 403 after the right password (401 after a wrong one), opening no session', async () => {
    const lee = await createUser('\\campus\\lee');
    await createUsersRepository(t.db).setBlocked({ id: lee.id, isBlocked: true });
    const refused = await login('\\campus\\lee');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 'forbidden', message: 'this account is blocked' });
    expect((await login('\\campus\\lee', 'wrong horse')).statusCode).toBe(401);
    expect(await sessionsOf(lee.id)).toEqual([]);
  });

  it('ends a user’s sessions when an operator blocks them, and only theirs', async () => {
    const max = await createUser('\\campus\\max');
    const other = await createUser('\\campus\\other');
    const { token } = (await login('\\campus\\max')).json();
    const headers = { authorization: `Bearer ${token}` };
    const otherHeaders = await t.userHeaders(other.id);
    expect((await getUser(max.id, headers)).statusCode).toBe(200);

    expect((await block(max.id, t.adminHeaders)).json().is_blocked).toBe(true);
    expect((await getUser(max.id, headers)).statusCode).toBe(401);
    expect(await sessionsOf(max.id)).toEqual([]);
    expect((await getUser(other.id, otherHeaders)).statusCode).toBe(200);

    // Unblocked, the user logs in again.
    expect((await block(max.id, t.adminHeaders, false)).json().is_blocked).toBe(false);
    expect((await login('\\campus\\max')).statusCode).toBe(200);
  });

  it('refuses an expired session with 401', async () => {
    const ned = await createUser('\\campus\\ned');
    const { token } = (await login('\\campus\\ned')).json();
    await t.db.update(authSessions).set({ expiresAt: new Date(Date.now() - 1000) });
    const response = await getUser(ned.id, { authorization: `Bearer ${token}` });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });
});

describe('registration', () => {
  it('is limited per IP: 429 with Retry-After in the error shape, and the refused request writes nothing', async () => {
    const register = (n: number) =>
      t.server.inject({
        method: 'POST',
        url: '/api/v1/users',
        payload: { username: `\\campus\\flood${n}`, password: PASSWORD },
        remoteAddress: '203.0.113.9',
      });
    for (let n = 0; n < 20; n++) expect((await register(n)).statusCode).toBe(201);
    const refused = await register(20);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json().error.code).toBe('rate_limited');
    const repository = createUsersRepository(t.db);
    expect(await repository.findByUsername({ username: '\\campus\\flood20' })).toBeUndefined();
  });
});
