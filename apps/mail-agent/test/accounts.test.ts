import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { executeRows, generateKey } from 'groundwork-pg';
import { setupTestApp } from 'groundwork-pg/testing';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import app from '../src/app.ts';

type Headers = { authorization: string };
const ADA = 'ada@example.com';

/** Mail Agent's accounts: a Google token registers only its own verified address, enforced as in production. */
describe('accounts', () => {
  const t = setupTestApp(app, { credentials: true, env: { SECRET_KEYS: generateKey('test1') } });
  let ids: { ada: number };
  let asAda: Headers;

  beforeEach(async () => {
    const user = await call('POST', '/api/v1/users', t.adminHeaders, { email: ADA });
    ids = { ada: user.json().id };
    asAda = await t.userHeaders(ADA);
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, headers?: Headers, payload?: object) =>
    t.server.inject({ method, url, headers, payload });
  const everything = async () => ({
    users: await executeRows(t.db, sql`select * from users order by id`),
    sessions: await executeRows(t.db, sql`select * from sessions order by id`),
  });

  describe('registration', () => {
    it("refuses another address than the token's: 403 naming email, nothing written", async () => {
      const carol = await t.userHeaders('carol@example.com');
      const before = await everything();
      const response = await call('POST', '/api/v1/users', carol, { email: 'dave@example.com' });
      expect(response.statusCode).toBe(403);
      expect(response.json().error).toMatchObject({
        code: 'forbidden',
        fields: [{ field: 'email', message: 'must match your token' }],
      });
      expect(await everything()).toEqual(before);
    });

    it("registers the token's own address, however it is cased, and then that user is the caller", async () => {
      const carol = await t.userHeaders('carol@example.com');
      // Before registering, the token names no user: every user route is 404.
      expect((await call('GET', `/api/v1/users/${ids.ada}`, carol)).statusCode).toBe(404);
      const created = await call('POST', '/api/v1/users', carol, { email: ' Carol@Example.COM ' });
      expect(created.statusCode).toBe(201);
      expect(created.json().email).toBe('carol@example.com');
      const own = await call('GET', `/api/v1/users/${created.json().id}`, carol);
      expect(own.statusCode).toBe(200);
    });

    it('lets an operator register any address', async () => {
      const created = await call('POST', '/api/v1/users', t.adminHeaders, { email: 'erin@example.com' });
      expect(created.statusCode).toBe(201);
    });
  });

  it('a deactivated user keeps its token but reaches nothing', async () => {
    expect((await call('DELETE', `/api/v1/users/${ids.ada}`, asAda)).statusCode).toBe(204);
    expect((await call('GET', `/api/v1/users/${ids.ada}`, asAda)).statusCode).toBe(404);
    expect((await call('POST', `/api/v1/users/${ids.ada}/sessions`, asAda, {})).statusCode).toBe(404);
  });
});

/**
 * Google's side, through the production path (AUTH_ISSUER, AUTH_AUDIENCE): an issuer on loopback serving its
 * JWKS, signing ID tokens with `email` and `email_verified` as Google does.
 */
const CLIENT_ID = 'mail-agent-test.apps.googleusercontent.com';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const jwks = {
  keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'google-1', alg: 'EdDSA', use: 'sig' }],
};
const issuerServer = createServer((request, response) => {
  response.setHeader('content-type', 'application/json');
  if (request.url === '/.well-known/openid-configuration') {
    response.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
  } else if (request.url === '/jwks') {
    response.end(JSON.stringify(jwks));
  } else {
    response.statusCode = 404;
    response.end('{}');
  }
});
await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
afterAll(() => new Promise((resolve) => issuerServer.close(resolve)));

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
function googleIdToken(claims: { email: string; email_verified: boolean }): Headers {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url({ alg: 'EdDSA', kid: 'google-1', typ: 'JWT' });
  const payload = base64url({
    iss: issuer,
    aud: CLIENT_ID,
    sub: '10769150350006150715113',
    iat: now,
    exp: now + 300,
    ...claims,
  });
  const signature = sign(null, Buffer.from(`${header}.${payload}`), privateKey).toString('base64url');
  return { authorization: `Bearer ${header}.${payload}.${signature}` };
}

describe('Google ID tokens', () => {
  const t = setupTestApp(app, {
    credentials: true,
    env: { AUTH_ISSUER: issuer, AUTH_AUDIENCE: CLIENT_ID, SECRET_KEYS: generateKey('test1') },
  });

  it('a verified email names its user; an unverified one names no user and registers nothing', async () => {
    const ada = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: t.adminHeaders,
      payload: { email: ADA },
    });
    const url = `/api/v1/users/${ada.json().id}`;

    const verified = googleIdToken({ email: 'Ada@Example.com', email_verified: true });
    expect((await t.server.inject({ method: 'GET', url, headers: verified })).statusCode).toBe(200);

    const unverified = googleIdToken({ email: ADA, email_verified: false });
    const read = await t.server.inject({ method: 'GET', url, headers: unverified });
    expect(read.statusCode).toBe(404);
    const registered = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: googleIdToken({ email: 'zoe@example.com', email_verified: false }),
      payload: { email: 'zoe@example.com' },
    });
    expect(registered.statusCode).toBe(403);
    expect(registered.json().error.fields).toEqual([{ field: 'email', message: 'must match your token' }]);
    const [count] = await executeRows<{ n: number }>(t.db, sql`select count(*)::int as n from users`);
    expect(count?.n).toBe(1);
  });
});
