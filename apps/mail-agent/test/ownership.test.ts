import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { executeRows, generateKey } from 'groundwork-pg';
import { setupTestApp } from 'groundwork-pg/testing';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import app from '../src/app.ts';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
type Headers = { authorization: string };

/**
 * Every route of the app with who may call it: `owner` routes act on the user in the path (that user or an
 * operator), `register` creates the caller's own user, `admin` is for operators, `public` for anyone.
 * `ok` is the status of a successful call.
 */
const ROUTES: {
  method: Method;
  url: string;
  access: 'owner' | 'register' | 'admin' | 'public';
  ok: number;
  payload?: object;
}[] = [
  {
    method: 'POST',
    url: '/api/v1/users',
    access: 'register',
    ok: 201,
    payload: { email: 'new@example.com' },
  },
  { method: 'GET', url: '/api/v1/users', access: 'admin', ok: 200 },
  { method: 'GET', url: '/api/v1/users/:id', access: 'owner', ok: 200 },
  { method: 'PATCH', url: '/api/v1/users/:id', access: 'owner', ok: 200, payload: { telegram_id: '42' } },
  { method: 'DELETE', url: '/api/v1/users/:id', access: 'owner', ok: 204 },
  {
    method: 'PUT',
    url: '/api/v1/users/:id/gmail-tokens',
    access: 'owner',
    ok: 204,
    payload: { access_token: 'ya29.new-access', refresh_token: '1//new-refresh' },
  },
  { method: 'DELETE', url: '/api/v1/users/:id/gmail-tokens', access: 'owner', ok: 204 },
  {
    method: 'POST',
    url: '/api/v1/users/:id/sessions',
    access: 'owner',
    ok: 201,
    payload: { name: 'triage' },
  },
  { method: 'GET', url: '/api/v1/users/:id/sessions', access: 'owner', ok: 200 },
  { method: 'GET', url: '/api/v1/health/db', access: 'public', ok: 200 },
];
type Route = (typeof ROUTES)[number];
const cases = (keep: (route: Route) => boolean) =>
  ROUTES.filter(keep).map((route) => [`${route.method} ${route.url}`, route] as const);
const withAccess = (access: Route['access']) => cases((route) => route.access === access);
const authenticated = cases((route) => route.access !== 'public');

const ADA = 'ada@example.com';
const BOB = 'bob@example.com';

describe('who may call which route', () => {
  const t = setupTestApp(app, { credentials: true, env: { SECRET_KEYS: generateKey('test1') } });

  let ids: { ada: number; bob: number };
  /** Ada's token (a verified Google email); the cases act as her on Bob's user and on her own. */
  let asAda: Headers;

  /** Both users, each with sealed Gmail tokens and a session, created by an operator. */
  beforeEach(async () => {
    const created: Record<string, number> = {};
    for (const email of [ADA, BOB]) {
      const user = await call('POST', '/api/v1/users', t.adminHeaders, { email });
      expect(user.statusCode).toBe(201);
      const id: number = user.json().id;
      created[email] = id;
      const tokens = { access_token: `access-of-${id}`, refresh_token: `refresh-of-${id}` };
      expect((await call('PUT', `/api/v1/users/${id}/gmail-tokens`, t.adminHeaders, tokens)).statusCode).toBe(
        204,
      );
      expect(
        (await call('POST', `/api/v1/users/${id}/sessions`, t.adminHeaders, { name: 'first' })).statusCode,
      ).toBe(201);
    }
    ids = { ada: created[ADA]!, bob: created[BOB]! };
    asAda = await t.userHeaders(ADA);
  });

  const call = (method: Method, url: string, headers?: Headers, payload?: object) =>
    t.server.inject({ method, url, headers, payload });
  const urlFor = (url: string, id: number) => url.replace(':id', String(id));

  /** Every row of the app's tables, to show that a refused request wrote nothing. */
  const everything = async () => ({
    users: await executeRows(t.db, sql`select * from users order by id`),
    sessions: await executeRows(t.db, sql`select * from sessions order by id`),
  });

  it('covers every route the app registers', () => {
    expect(t.routes.length).toBeGreaterThan(0);
    expect([...t.routes].sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.url}`).sort());
  });

  it.each(authenticated)(
    '%s without a credential: 401 with WWW-Authenticate, nothing written',
    async (_name, route) => {
      const before = await everything();
      const response = await call(route.method, urlFor(route.url, ids.bob), undefined, route.payload);
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.json().error.code).toBe('unauthorized');
      expect(await everything()).toEqual(before);
    },
  );

  it.each(withAccess('owner'))(
    "%s as Ada on Bob's user: 404 as if missing, nothing written",
    async (_name, route) => {
      const before = await everything();
      const response = await call(route.method, urlFor(route.url, ids.bob), asAda, route.payload);
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toEqual({ code: 'not_found', message: 'User not found' });
      // Bob's row, sealed Gmail tokens included, and his sessions are as they were.
      expect(await everything()).toEqual(before);
    },
  );

  it.each(withAccess('owner'))('%s as Ada on her own user works', async (_name, route) => {
    const response = await call(route.method, urlFor(route.url, ids.ada), asAda, route.payload);
    expect(response.statusCode).toBe(route.ok);
  });

  it.each(authenticated)("%s with the admin key works (on Bob's user)", async (_name, route) => {
    const response = await call(route.method, urlFor(route.url, ids.bob), t.adminHeaders, route.payload);
    expect(response.statusCode).toBe(route.ok);
  });

  it.each(withAccess('admin'))('%s as a user: 403', async (_name, route) => {
    const response = await call(route.method, route.url, asAda, route.payload);
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('forbidden');
  });

  it.each(withAccess('public'))('%s needs no credential', async (_name, route) => {
    expect((await call(route.method, route.url)).statusCode).toBe(route.ok);
  });

  it('own writes land on the caller: a PUT replaces her sealed tokens, a PATCH her Telegram link', async () => {
    const sealedOf = async (id: number) =>
      (
        await executeRows(
          t.db,
          sql`select gmail_oauth_token, gmail_refresh_token from users where id = ${id}`,
        )
      )[0];
    const before = await sealedOf(ids.ada);
    const put = await call('PUT', `/api/v1/users/${ids.ada}/gmail-tokens`, asAda, {
      access_token: 'ya29.mine',
      refresh_token: '1//mine',
    });
    expect(put.statusCode).toBe(204);
    expect(await sealedOf(ids.ada)).not.toEqual(before);
    const patched = await call('PATCH', `/api/v1/users/${ids.ada}`, asAda, { telegram_id: '42' });
    expect(patched.json()).toMatchObject({ id: ids.ada, telegram_id: '42' });
    const sessions = await call('GET', `/api/v1/users/${ids.ada}/sessions`, asAda);
    expect(sessions.json().items).toEqual([expect.objectContaining({ user_id: ids.ada, name: 'first' })]);
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
