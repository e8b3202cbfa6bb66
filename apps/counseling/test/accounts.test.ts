/** Counseling's own login, blocking and registration rules, on the real app with credentials enforced. */
import { eq } from 'drizzle-orm';
import { hashPassword } from 'groundwork-pg';
import { passwordAccountRequests, setupTestApp } from 'groundwork-pg/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { authSessions } from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app, { credentials: true });

const PASSWORD = 'correct horse';
let passwordHash: string;
beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD);
});

const createUser = (username: string) => createUsersRepository(t.db).create({ username, passwordHash });
const sessionsOf = (id: string) => t.db.select().from(authSessions).where(eq(authSessions.userId, id));

const accounts = passwordAccountRequests(t);
const login = (username: string, password = PASSWORD) => accounts.login({ username, password });

type Headers = Record<string, string>;
const getUser = (id: string, headers: Headers) =>
  t.server.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers });
const block = (id: string, headers: Headers, is_blocked = true) =>
  t.server.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers, payload: { is_blocked } });

describe('login sessions on the app', () => {
  it('logs in by username in any letter case, and the token acts as that user', async () => {
    const jdoe = await createUser('\\campus\\jdoe');
    const headers = await accounts.sessionHeaders({ username: '\\CAMPUS\\JDoe', password: PASSWORD });
    expect((await getUser(jdoe.id, headers)).json()).toMatchObject({ id: jdoe.id });
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
    const headers = await accounts.sessionHeaders({ username: '\\campus\\max', password: PASSWORD });
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
});

describe('registration', () => {
  it('is limited per IP: 429 with Retry-After in the error shape, and the refused request writes nothing', async () => {
    await accounts.registerPastLimit((n) => ({ username: `\\campus\\flood${n}`, password: PASSWORD }));
    const repository = createUsersRepository(t.db);
    expect(await repository.findByUsername({ username: '\\campus\\flood20' })).toBeUndefined();
  });
});
