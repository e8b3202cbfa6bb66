/**
 * Users of a `jwt` app end to end, on the badges fixture: the development issuer, tokens matched to user
 * rows by a claim, the ownership helpers (another user's row is 404, registration needs your own claim),
 * admin-only routes, the foundation's health route and declared error responses, and `groundwork auth token`
 * against a served app.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createDevIssuer,
  DEV_ISSUER_FILE,
  devIssuerVerifier,
  loadDevIssuer,
} from '../src/auth/dev-issuer.ts';
import { TokenError } from '../src/auth/jwt.ts';
import { setupTestApp } from '../src/testing/index.ts';
import badges from './support/badges/src/app.ts';
import { users } from './support/badges/src/schema.ts';
import { bin, startServer } from './support/subprocess.ts';

const scratch = mkdtempSync(join(tmpdir(), 'gw-user-access-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the development issuer', () => {
  it('signs tokens its verifier accepts, for its own audience only', async () => {
    const issuer = await createDevIssuer('badges');
    const claims = await issuer
      .verifier()
      .verify(await issuer.sign('alice', { claims: { email: 'a@x.io' } }));
    expect(claims).toMatchObject({
      sub: 'alice',
      iss: 'urn:groundwork:dev:badges',
      aud: 'badges',
      email: 'a@x.io',
    });
    const other = await createDevIssuer('other');
    await expect(other.verifier().verify(await issuer.sign('alice'))).rejects.toBeInstanceOf(TokenError);
  });

  it('keeps its key in the data directory (0600), and the app reads it only once it exists', async () => {
    const dataDir = join(scratch, 'issuer-data');
    const verifier = devIssuerVerifier('badges', dataDir);
    const stranger = await (await createDevIssuer('badges')).sign('alice');
    await expect(verifier.verify(stranger)).rejects.toThrow('token is not valid for this service');
    const issuer = await loadDevIssuer('badges', dataDir);
    expect(statSync(join(dataDir, DEV_ISSUER_FILE)).mode & 0o777).toBe(0o600);
    const token = await (await loadDevIssuer('badges', dataDir)).sign('alice');
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'alice' });
    await expect(verifier.verify(await issuer.sign('bob'))).resolves.toMatchObject({ sub: 'bob' });
    await expect(verifier.verify(stranger)).rejects.toBeInstanceOf(TokenError);
  });
});

describe('a jwt app with credentials enforced', () => {
  const t = setupTestApp(badges, { credentials: true });

  const register = async (subject: string, as = subject) =>
    t.server.inject({
      method: 'POST',
      url: '/users',
      payload: { subject, name: subject },
      headers: await t.userHeaders(as),
    });

  it('matches a token to its user row once the user registers', async () => {
    const me = async () =>
      (await t.server.inject({ method: 'GET', url: '/me', headers: await t.userHeaders('alice') })).json();
    expect(await me()).toEqual({ userId: null });
    const created = await register('alice');
    expect(created.statusCode).toBe(201);
    expect(await me()).toEqual({ userId: created.json().id });
  });

  it('refuses registration under another subject (403 naming the field) and writes nothing', async () => {
    const refused = await register('bob', 'mallory');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.fields).toEqual([{ field: 'subject', message: 'must match your token' }]);
    const list = await t.server.inject({ method: 'GET', url: '/users', headers: t.adminHeaders });
    expect(list.json().data).toEqual([]);
  });

  it("answers 404 for another user's row, 200 for one's own and for an operator", async () => {
    const alice = (await register('alice')).json();
    await register('bob');
    const get = async (headers: Record<string, string>) =>
      t.server.inject({ method: 'GET', url: `/users/${alice.id}`, headers });
    expect((await get(await t.userHeaders('alice'))).statusCode).toBe(200);
    const hidden = await get(await t.userHeaders('bob'));
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error.code).toBe('not_found');
    expect((await get(await t.userHeaders('nobody-yet'))).statusCode).toBe(404);
    expect((await get(t.adminHeaders)).json()).toEqual(alice);
  });

  it("checks the token's user in the statement of an inQuery route: a deleted user, another's row, a bad token", async () => {
    const alice = (await register('alice')).json();
    const bob = (await register('bob')).json();
    const [asAlice, asBob] = [await t.userHeaders('alice'), await t.userHeaders('bob')];
    const rename = (id: string, headers: Record<string, string>) =>
      t.server.inject({ method: 'PATCH', url: `/users/${id}`, headers, payload: { name: 'Mallory' } });
    expect((await rename(alice.id, asAlice)).json()).toMatchObject({ id: alice.id, name: 'Mallory' });
    expect((await rename(bob.id, asAlice)).statusCode).toBe(404);
    const badToken = { authorization: `${asAlice.authorization.slice(0, -4)}AAAA` };
    const refused = await rename(alice.id, badToken);
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    const list = await t.server.inject({ method: 'GET', url: '/users', headers: t.adminHeaders });
    expect(list.json().data.find((row: { id: string }) => row.id === bob.id).name).toBe('bob');
    // The user's row is gone: the very next request with a token still unexpired finds no user.
    await t.db.delete(users).where(eq(users.id, bob.id));
    expect((await t.server.inject({ url: `/users/${bob.id}`, headers: asBob })).statusCode).toBe(404);
  });

  it('keeps admin-only routes from users (403) and every route from anonymous callers (401)', async () => {
    const asUser = await t.server.inject({
      method: 'GET',
      url: '/users',
      headers: await t.userHeaders('alice'),
    });
    expect(asUser.statusCode).toBe(403);
    const anonymous = await t.server.inject({ method: 'GET', url: '/me' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
  });

  it('serves the health route publicly, never cached: the verdict to strangers, the details to operators', async () => {
    const health = await t.server.inject({ method: 'GET', url: '/status' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'up' });
    expect(health.headers['cache-control']).toBe('no-store');
    const asOperator = await t.server.inject({ method: 'GET', url: '/status', headers: t.adminHeaders });
    expect(asOperator.json()).toEqual({ status: 'up', engine: expect.stringMatching(/^(pglite|postgres)$/) });
    const ready = await t.server.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.json()).toEqual({ status: 'ok' });
    const readyAsOperator = await t.server.inject({
      method: 'GET',
      url: '/health/ready',
      headers: t.adminHeaders,
    });
    expect(readyAsOperator.json()).toMatchObject({
      status: 'ok',
      database: 'connected',
      migrations: { pending: 0 },
    });
  });

  it('declares in OpenAPI the statuses each route answers and the Bearer scheme on every app route', async () => {
    const { paths } = (await t.server.inject({ method: 'GET', url: '/docs/json' })).json();
    // The foundation's statuses from each declaration (body, params, query, access), the route's own beside.
    for (const [path, operation, statuses] of [
      ['/users', 'post', ['201', '400', '401', '403', '409', '413', '415', '503']],
      ['/users', 'get', ['200', '400', '401', '403', '503']],
      ['/users/{id}', 'get', ['200', '400', '401', '404', '414', '503']],
      ['/me', 'get', ['200', '401', '503']],
    ] as const) {
      expect(Object.keys(paths[path][operation].responses).sort(), `${operation} ${path}`).toEqual(statuses);
      expect(paths[path][operation].security).toEqual([{ bearerAuth: [] }]);
    }
    expect(paths['/status'].get.security).toEqual([]);
    expect(Object.keys(paths['/status'].get.responses)).toEqual(['200', '503']);
  });
});

describe('groundwork auth token', () => {
  const badgesDir = join(import.meta.dirname, 'support', 'badges');
  const env = {
    ...process.env,
    DATA_DIR: join(scratch, 'cli-data'),
    DATABASE_URL: '',
    NODE_ENV: 'development',
  };
  const cli = (args: string[], cwd = badgesDir) =>
    spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8' });

  it('prints a token the served app accepts as that user', async () => {
    const printed = cli(['auth', 'token', '--sub', 'carol', '--json']);
    expect(printed.status, printed.stderr).toBe(0);
    const { token, issuer } = JSON.parse(printed.stdout);
    expect(issuer).toBe('urn:groundwork:dev:badges');
    const server = await startServer({ cwd: badgesDir, env: { DATA_DIR: env.DATA_DIR } });
    try {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const created = await fetch(`${server.url}/users`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ subject: 'carol', name: 'Carol' }),
      });
      expect(created.status).toBe(201);
      const me = await fetch(`${server.url}/me`, { headers });
      expect(await me.json()).toEqual({ userId: (await created.json()).id });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('explains what to use instead for an app without user tokens (exit 2)', () => {
    const refused = cli(['auth', 'token', '--sub', 'x'], join(import.meta.dirname, 'support', 'notes'));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(
      'notes has no user tokens; call it with an operator key (ADMIN_API_KEYS)',
    );
  });
});
