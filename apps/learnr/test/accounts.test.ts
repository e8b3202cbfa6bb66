/**
 * Password recovery end to end on the real app (issue 27): the reset message goes through nodemailer's
 * development transport into the app's data directory, and its token sets a new password once.
 */
import { join } from 'node:path';
import { sentMail, setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';

const t = setupTestApp(app, { credentials: true });

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
