/**
 * Learnr's own login, registration and recovery rules, on the real app with credentials enforced as in
 * production. The reset message goes through nodemailer's development transport into the app's data directory.
 */
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { hashPassword } from 'groundwork-pg';
import { passwordAccountRequests, sentMail, setupTestApp } from 'groundwork-pg/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { authSessions, users } from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app, { credentials: true });

const PASSWORD = 'correct horse 1';
let passwordHash: string;
beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD);
});

const createUser = (email: string) =>
  createUsersRepository(t.db).create({ email, hashedPassword: passwordHash });

const accounts = passwordAccountRequests(t);
const getUser = (id: string, headers: Record<string, string>) =>
  t.server.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers });
const logout = (headers: Record<string, string>) =>
  t.server.inject({ method: 'POST', url: '/api/v1/auth/logout', headers });

describe('logout', () => {
  it('ends only the caller’s own session', async () => {
    const ann = await createUser('ann@x.io');
    const bob = await createUser('bob@x.io');
    const annHeaders = await t.userHeaders(ann.id);
    const bobHeaders = await t.userHeaders(bob.id);
    expect((await logout(annHeaders)).statusCode).toBe(204);
    expect((await getUser(ann.id, annHeaders)).statusCode).toBe(401);
    expect((await getUser(bob.id, bobHeaders)).statusCode).toBe(200);
  });
});

describe('login sessions on the app', () => {
  it('logs in by email in any letter case, and the token acts as that user', async () => {
    const ann = await createUser('ann@x.io');
    const headers = await accounts.sessionHeaders({ email: ' Ann@X.io ', password: PASSWORD });
    expect((await getUser(ann.id, headers)).json()).toMatchObject({ id: ann.id });
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
    await accounts.registerPastLimit((n) => ({ email: `flood${n}@x.io`, password: PASSWORD }));
    expect(await createUsersRepository(t.db).findByEmail({ email: 'flood20@x.io' })).toBeUndefined();
  });
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  t.server.inject({ method: 'POST', url: `/api/v1${url}`, payload, headers });
const mails = () => sentMail(join(t.app.settings.dataDir, 'mail'));

describe('password recovery', () => {
  it('mails a reset token into the data directory; it sets a new password once and ends every session', async () => {
    expect((await post('/users', { email: 'kim@x.io', password: 'first long secret' })).statusCode).toBe(201);
    const session = (await post('/auth/login', { email: 'kim@x.io', password: 'first long secret' })).json()
      .token;
    const before = mails().length;

    expect((await post('/auth/password-reset', { email: 'KIM@x.io' })).statusCode).toBe(202);
    const message = mails()[before]!;
    expect(message).toMatch(/^To: kim@x\.io$/m);
    expect(message).toMatch(/^Subject: Learnr: users and onboarding: reset your password$/m);
    const token = /^([A-Za-z0-9_-]{43})$/m.exec(message)![1]!;

    const weak = await post('/auth/password-reset/confirm', { token, new_password: 'password' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.fields).toEqual([
      { field: 'new_password', message: 'is on a list of common or breached passwords; choose another' },
    ]);
    expect(
      (await post('/auth/password-reset/confirm', { token, new_password: 'second long secret' })).statusCode,
    ).toBe(204);
    const me = await t.server.inject({
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${session}` },
    });
    expect(me.statusCode).toBe(401);
    expect(
      (await post('/auth/login', { email: 'kim@x.io', password: 'second long secret' })).statusCode,
    ).toBe(200);
    expect((await post('/auth/login', { email: 'kim@x.io', password: 'first long secret' })).statusCode).toBe(
      401,
    );
    const again = await post('/auth/password-reset/confirm', { token, new_password: 'third long secret' });
    expect(again.statusCode).toBe(400);
  });

  it('answers 202 for an address no account has, and mails nothing', async () => {
    const before = mails().length;
    expect((await post('/auth/password-reset', { email: 'nobody@x.io' })).statusCode).toBe(202);
    expect(mails()).toHaveLength(before);
  });
});
