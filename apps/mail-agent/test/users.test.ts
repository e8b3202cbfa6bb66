import { sql } from 'drizzle-orm';
import { executeRows, generateKey } from 'groundwork-pg';
import { setupTestApp, testSettings } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { keysOf } from '../src/secrets.ts';
import { createGmailTokenVault } from '../src/users/gmail-tokens.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app, { env: { SECRET_KEYS: generateKey('test1') } });

const rows = <T extends Record<string, unknown>>(query: ReturnType<typeof sql>) =>
  executeRows<T>(t.db, query);

async function createUser(email: string) {
  const response = await t.server.inject({ method: 'POST', url: '/api/v1/users', payload: { email } });
  expect(response.statusCode).toBe(201);
  return response.json() as { id: number; email: string; gmail_connected: boolean; updated_at: string };
}

const putTokens = (id: number, payload: object) =>
  t.server.inject({ method: 'PUT', url: `/api/v1/users/${id}/gmail-tokens`, payload });

describe("schema (the story's manual checklist)", () => {
  it("has the users columns with the story's types and nullability", async () => {
    const columns = await rows<{
      column_name: string;
      data_type: string;
      is_nullable: string;
      len: number | null;
    }>(
      sql`select column_name, data_type, is_nullable, character_maximum_length as len
            from information_schema.columns where table_name = 'users' order by ordinal_position`,
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable, c.len])).toEqual([
      ['id', 'integer', 'NO', null],
      ['email', 'character varying', 'NO', 255],
      ['gmail_oauth_token', 'text', 'YES', null],
      ['gmail_refresh_token', 'text', 'YES', null],
      ['telegram_id', 'character varying', 'YES', 100],
      ['telegram_username', 'character varying', 'YES', 100],
      ['is_active', 'boolean', 'NO', null],
      ['onboarding_completed', 'boolean', 'NO', null],
      ['created_at', 'timestamp with time zone', 'NO', null],
      ['updated_at', 'timestamp with time zone', 'NO', null],
    ]);
    const [identity] = await rows<{ is_identity: string }>(
      sql`select is_identity from information_schema.columns where table_name = 'users' and column_name = 'id'`,
    );
    expect(identity?.is_identity).toBe('YES');
  });

  it('indexes email uniquely and telegram_id uniquely where not null; sessions by user, cascading', async () => {
    const indexes = await rows<{ indexname: string; indexdef: string }>(
      sql`select indexname, indexdef from pg_indexes where tablename in ('users', 'sessions') order by indexname`,
    );
    const def = (name: string) => indexes.find((i) => i.indexname === name)?.indexdef ?? '';
    expect(def('ix_users_email')).toMatch(/CREATE UNIQUE INDEX .* \(email\)$/);
    expect(def('ix_users_telegram_id')).toMatch(
      /CREATE UNIQUE INDEX .* \(telegram_id\) WHERE \(telegram_id IS NOT NULL\)/,
    );
    expect(def('ix_sessions_user_id')).toMatch(/CREATE INDEX .* \(user_id\)/);
    const [fk] = await rows<{ delete_rule: string }>(
      sql`select delete_rule from information_schema.referential_constraints
           where constraint_name = 'sessions_user_id_users_id_fk'`,
    );
    expect(fk?.delete_rule).toBe('CASCADE');
  });

  it('inserts with plain SQL, fills defaults and timestamps, and refuses a duplicate email', async () => {
    await t.db.execute(sql`insert into users (email) values ('test@example.com')`);
    const [user] = await rows<Record<string, unknown>>(sql`select * from users`);
    expect(user).toMatchObject({
      id: 1,
      email: 'test@example.com',
      gmail_oauth_token: null,
      telegram_id: null,
      is_active: true,
      onboarding_completed: false,
    });
    expect(user?.created_at).toBeTruthy();
    expect(user?.updated_at).toBeTruthy();
    await expect(
      t.db.execute(sql`insert into users (email) values ('test@example.com')`),
    ).rejects.toMatchObject({
      cause: { code: '23505' },
    });
  });

  it('keeps updated_at true in the database, whoever writes', async () => {
    // Written in the past, so a clock that has not moved since the insert cannot pass or fail the check.
    await t.db.execute(
      sql`insert into users (email, created_at, updated_at) values ('clock@example.com', '2000-01-01Z', '2000-01-01Z')`,
    );
    await t.db.execute(sql`update users set onboarding_completed = true`);
    const [row] = await rows<{ later: boolean }>(sql`select updated_at > created_at as later from users`);
    expect(row?.later).toBe(true);
  });

  it('refuses a plaintext token in the token columns, whatever the write path', async () => {
    await t.db.execute(sql`insert into users (email) values ('raw@example.com')`);
    await expect(
      t.db.execute(sql`update users set gmail_oauth_token = 'ya29.plaintext-access-token'`),
    ).rejects.toMatchObject({ cause: { code: '23514' } });
  });
});

describe('users API', () => {
  it('creates a user with a normalized email and 409s a duplicate naming the field', async () => {
    const user = await createUser('  Ann.Lee@Example.COM ');
    expect(user).toMatchObject({ id: 1, email: 'ann.lee@example.com', gmail_connected: false });
    expect(user).not.toHaveProperty('gmail_oauth_token');
    const duplicate = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'ann.lee@example.com' },
    });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().error.fields).toEqual([{ field: 'email', message: 'already exists' }]);
  });

  it('rejects bad input with 400 naming the field', async () => {
    const cases = [
      [{ email: 'not-an-email' }, 'email'],
      [{}, 'email'],
      [{ email: `${'a'.repeat(250)}@example.com` }, 'email'],
      [{ email: 'x@example.com', is_active: false }, 'is_active'],
    ] as const;
    for (const [payload, field] of cases) {
      const response = await t.server.inject({ method: 'POST', url: '/api/v1/users', payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
    const badId = await t.server.inject({ method: 'GET', url: '/api/v1/users/abc' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.fields[0].field).toBe('id');
  });

  it('reads a user and 404s an unknown one', async () => {
    const user = await createUser('reader@example.com');
    const found = await t.server.inject({ method: 'GET', url: `/api/v1/users/${user.id}` });
    expect(found.statusCode).toBe(200);
    expect(found.json()).toEqual(user);
    const missing = await t.server.inject({ method: 'GET', url: '/api/v1/users/999' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });

  it('links Telegram, 409s an id another user holds, lets many users have none, and unlinks', async () => {
    const ann = await createUser('ann@example.com');
    const bob = await createUser('bob@example.com');
    await createUser('cid@example.com'); // a third user without a link: nulls never collide
    const link = await t.server.inject({
      method: 'PATCH',
      url: `/api/v1/users/${ann.id}`,
      payload: { telegram_id: '123456789', telegram_username: '@ann_lee', onboarding_completed: true },
    });
    expect(link.statusCode).toBe(200);
    expect(link.json()).toMatchObject({
      telegram_id: '123456789',
      telegram_username: 'ann_lee',
      onboarding_completed: true,
    });
    expect(Date.parse(link.json().updated_at)).toBeGreaterThan(Date.parse(ann.updated_at));

    const taken = await t.server.inject({
      method: 'PATCH',
      url: `/api/v1/users/${bob.id}`,
      payload: { telegram_id: '123456789' },
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.fields).toEqual([{ field: 'telegram_id', message: 'already exists' }]);

    const unlink = await t.server.inject({
      method: 'PATCH',
      url: `/api/v1/users/${ann.id}`,
      payload: { telegram_id: null, telegram_username: null },
    });
    expect(unlink.json()).toMatchObject({
      telegram_id: null,
      telegram_username: null,
      onboarding_completed: true,
    });
    const nowFree = await t.server.inject({
      method: 'PATCH',
      url: `/api/v1/users/${bob.id}`,
      payload: { telegram_id: '123456789' },
    });
    expect(nowFree.statusCode).toBe(200);
  });

  it('Telegram ids have one form: a leading zero or a non-digit is 400, so 00123 cannot shadow 123', async () => {
    const ann = await createUser('ann@example.com');
    const bob = await createUser('bob@example.com');
    const link = (id: number, telegram_id: string) =>
      t.server.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, payload: { telegram_id } });
    expect((await link(ann.id, '123456789')).statusCode).toBe(200);
    for (const alias of ['0123456789', '00123456789', '0', '+123456789', '1e9', '１２３']) {
      const response = await link(bob.id, alias);
      expect(response.statusCode, alias).toBe(400);
      expect(response.json().error.fields).toEqual([{ field: 'telegram_id', message: expect.any(String) }]);
    }
    // Surrounding blanks are trimmed to the one form, which is then taken.
    expect((await link(bob.id, ' 123456789 ')).statusCode).toBe(409);
  });

  it('400 naming the field for a NUL in telegram_username or a session name', async () => {
    const ann = await createUser('ann@example.com');
    const username = await t.server.inject({
      method: 'PATCH',
      url: `/api/v1/users/${ann.id}`,
      payload: { telegram_username: 'ann\u0000' },
    });
    expect(username.statusCode).toBe(400);
    expect(username.json().error.fields).toEqual([
      { field: 'telegram_username', message: expect.any(String) },
    ]);
    const session = await t.server.inject({
      method: 'POST',
      url: `/api/v1/users/${ann.id}/sessions`,
      payload: { name: 'a\u0000b' },
    });
    expect(session.statusCode).toBe(400);
    expect(session.json().error.fields).toEqual([{ field: 'name', message: expect.any(String) }]);
  });

  it('rejects an empty or invalid PATCH with 400 and 404s an unknown user', async () => {
    const user = await createUser('patch@example.com');
    const empty = await t.server.inject({ method: 'PATCH', url: `/api/v1/users/${user.id}`, payload: {} });
    expect(empty.statusCode).toBe(400);
    const bad = await t.server.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      payload: { telegram_id: 'abc', onboarding_completed: 'yes' },
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .error.fields.map((f: { field: string }) => f.field)
        .sort(),
    ).toEqual(['onboarding_completed', 'telegram_id']);
    const email = await t.server.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      payload: { email: 'other@example.com' },
    });
    expect(email.statusCode).toBe(400);
    expect(email.json().error.fields.map((f: { field: string }) => f.field)).toContain('email');
    const missing = await t.server.inject({
      method: 'PATCH',
      url: '/api/v1/users/999',
      payload: { onboarding_completed: true },
    });
    expect(missing.statusCode).toBe(404);
  });

  it('lists active users a page at a time', async () => {
    for (const name of ['a', 'b', 'c']) await createUser(`${name}@example.com`);
    const first = await t.server.inject({ method: 'GET', url: '/api/v1/users?limit=2' });
    expect(first.json().items.map((u: { email: string }) => u.email)).toEqual([
      'a@example.com',
      'b@example.com',
    ]);
    expect(first.json().next_after).toBe(2);
    const second = await t.server.inject({ method: 'GET', url: '/api/v1/users?limit=2&after=2' });
    expect(second.json()).toMatchObject({ items: [{ email: 'c@example.com' }], next_after: null });
    const exact = await t.server.inject({ method: 'GET', url: '/api/v1/users?limit=3' });
    expect(exact.json().items).toHaveLength(3);
    expect(exact.json().next_after).toBeNull();
    const bad = await t.server.inject({ method: 'GET', url: '/api/v1/users?limit=0' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields[0].field).toBe('limit');
  });

  it('soft-deletes: 204, then 404 everywhere and absent from lists, with the row kept and tokens cleared', async () => {
    const gone = await createUser('gone@example.com');
    const stays = await createUser('stays@example.com');
    expect((await putTokens(gone.id, { access_token: 'a', refresh_token: 'r' })).statusCode).toBe(204);
    const deleted = await t.server.inject({ method: 'DELETE', url: `/api/v1/users/${gone.id}` });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');

    for (const [method, url, payload] of [
      ['GET', `/api/v1/users/${gone.id}`, undefined],
      ['DELETE', `/api/v1/users/${gone.id}`, undefined],
      ['PATCH', `/api/v1/users/${gone.id}`, { onboarding_completed: true }],
      ['PUT', `/api/v1/users/${gone.id}/gmail-tokens`, { access_token: 'a', refresh_token: 'r' }],
      ['DELETE', `/api/v1/users/${gone.id}/gmail-tokens`, undefined],
      ['GET', `/api/v1/users/${gone.id}/sessions`, undefined],
      ['POST', `/api/v1/users/${gone.id}/sessions`, { name: 'x' }],
    ] as const) {
      const response = await t.server.inject({ method, url, payload });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
    const list = await t.server.inject({ method: 'GET', url: '/api/v1/users' });
    expect(list.json().items.map((u: { id: number }) => u.id)).toEqual([stays.id]);

    const [row] = await rows<Record<string, unknown>>(sql`select * from users where id = ${gone.id}`);
    expect(row).toMatchObject({
      email: 'gone@example.com',
      is_active: false,
      gmail_oauth_token: null,
      gmail_refresh_token: null,
    });
  });
});

describe('Gmail tokens', () => {
  it('round-trip through the API while the raw columns hold only sealed values', async () => {
    const user = await createUser('gmail@example.com');
    const access = 'ya29.a0AfH6SMBx-access-token-plaintext';
    const refresh = '1//0gLr-refresh-token-plaintext';
    expect((await putTokens(user.id, { access_token: access, refresh_token: refresh })).statusCode).toBe(204);

    const shown = await t.server.inject({ method: 'GET', url: `/api/v1/users/${user.id}` });
    expect(shown.json().gmail_connected).toBe(true);
    expect(shown.body).not.toContain(access);
    expect(shown.body).not.toContain('v1.');
    const listed = await t.server.inject({ method: 'GET', url: '/api/v1/users' });
    expect(listed.body).not.toContain('v1.');

    const [raw] = await rows<{ gmail_oauth_token: string; gmail_refresh_token: string }>(
      sql`select gmail_oauth_token, gmail_refresh_token from users where id = ${user.id}`,
    );
    for (const [sealed, plain] of [
      [raw!.gmail_oauth_token, access],
      [raw!.gmail_refresh_token, refresh],
    ] as const) {
      // v2: bound to its row and column (issue 11, section 7).
      expect(sealed).toMatch(/^v2\.test1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(sealed).not.toContain(plain);
      expect(sealed).not.toContain(Buffer.from(plain).toString('base64url').slice(0, 12));
    }
    const [onDisk] = await rows<{ found: boolean }>(
      sql`select bool_or(u::text like ${`%${access}%`} or u::text like ${`%${refresh}%`}) as found from users u`,
    );
    expect(onDisk?.found).toBe(false);

    const vault = createGmailTokenVault({
      users: createUsersRepository(t.db),
      ring: keysOf(t.app.settings).ring,
    });
    expect(await vault.read({ userId: user.id })).toEqual({ accessToken: access, refreshToken: refresh });

    // Two sealings of the same token differ (random IV), so equal tokens are not visible as equal rows.
    await putTokens(user.id, { access_token: access, refresh_token: refresh });
    const [again] = await rows<{ gmail_oauth_token: string }>(sql`select gmail_oauth_token from users`);
    expect(again?.gmail_oauth_token).not.toBe(raw!.gmail_oauth_token);
  });

  it('clears both tokens with DELETE', async () => {
    const user = await createUser('disconnect@example.com');
    await putTokens(user.id, { access_token: 'a', refresh_token: 'r' });
    const cleared = await t.server.inject({ method: 'DELETE', url: `/api/v1/users/${user.id}/gmail-tokens` });
    expect(cleared.statusCode).toBe(204);
    const [raw] = await rows<Record<string, unknown>>(
      sql`select gmail_oauth_token, gmail_refresh_token from users where id = ${user.id}`,
    );
    expect(raw).toEqual({ gmail_oauth_token: null, gmail_refresh_token: null });
    const shown = await t.server.inject({ method: 'GET', url: `/api/v1/users/${user.id}` });
    expect(shown.json().gmail_connected).toBe(false);
  });

  it('rejects a PUT missing a token with 400 naming it, and 404s an unknown user', async () => {
    const user = await createUser('half@example.com');
    const half = await putTokens(user.id, { access_token: 'a' });
    expect(half.statusCode).toBe(400);
    expect(half.json().error.fields[0].field).toBe('refresh_token');
    const empty = await putTokens(user.id, { access_token: '', refresh_token: 'r' });
    expect(empty.json().error.fields[0].field).toBe('access_token');
    expect((await putTokens(999, { access_token: 'a', refresh_token: 'r' })).statusCode).toBe(404);
    const [raw] = await rows<{ gmail_oauth_token: string | null }>(sql`select gmail_oauth_token from users`);
    expect(raw?.gmail_oauth_token).toBeNull();
  });
});

describe('sessions', () => {
  it("creates and lists a user's sessions; 404 for an unknown user", async () => {
    const user = await createUser('chat@example.com');
    const named = await t.server.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/sessions`,
      payload: { name: 'Inbox triage' },
    });
    expect(named.statusCode).toBe(201);
    expect(named.json()).toMatchObject({ user_id: user.id, name: 'Inbox triage' });
    const unnamed = await t.server.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/sessions`,
      payload: {},
    });
    expect(unnamed.json().name).toBe('');
    const list = await t.server.inject({ method: 'GET', url: `/api/v1/users/${user.id}/sessions` });
    expect(list.json().items.map((s: { name: string }) => s.name)).toEqual(['Inbox triage', '']);

    const long = await t.server.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/sessions`,
      payload: { name: 'x'.repeat(256) },
    });
    expect(long.statusCode).toBe(400);
    expect(long.json().error.fields[0].field).toBe('name');
    const orphan = await t.server.inject({ method: 'POST', url: '/api/v1/users/999/sessions', payload: {} });
    expect(orphan.statusCode).toBe(404);
  });

  it('go with their user when the user row is deleted (ON DELETE CASCADE)', async () => {
    const doomed = await createUser('doomed@example.com');
    const other = await createUser('other@example.com');
    for (const id of [doomed.id, doomed.id, other.id]) {
      await t.server.inject({ method: 'POST', url: `/api/v1/users/${id}/sessions`, payload: { name: 's' } });
    }
    // A soft delete keeps them ...
    await t.server.inject({ method: 'DELETE', url: `/api/v1/users/${doomed.id}` });
    const kept = await rows<{ n: number }>(
      sql`select count(*)::int as n from sessions where user_id = ${doomed.id}`,
    );
    expect(kept[0]?.n).toBe(2);
    // ... a hard delete (a purge) takes them along.
    await t.db.execute(sql`delete from users where id = ${doomed.id}`);
    const left = await rows<{ user_id: number }>(sql`select user_id from sessions`);
    expect(left).toEqual([{ user_id: other.id }]);
  });
});

describe('operations', () => {
  it('GET /api/v1/health/db answers 200 with the database name', async () => {
    const response = await t.server.inject({ method: 'GET', url: '/api/v1/health/db' });
    expect(response.statusCode).toBe(200);
    const [current] = await rows<{ name: string }>(sql`select current_database() as name`);
    expect(response.json()).toEqual({
      status: 'connected',
      database: current!.name,
      message: 'PostgreSQL connection successful',
    });
  });

  it('pools 30 connections by default, overridable by DB_POOL_MAX', () => {
    expect(t.app.settings.pool.max).toBe(30);
    expect(testSettings(app, { DB_POOL_MAX: '12' }).pool.max).toBe(12);
  });

  it('serves its OpenAPI document with every route', async () => {
    const response = await t.server.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json().paths).sort()).toEqual([
      '/api/v1/health/db',
      '/api/v1/users',
      '/api/v1/users/{id}',
      '/api/v1/users/{id}/gmail-tokens',
      '/api/v1/users/{id}/sessions',
      '/health/live',
      '/health/ready',
    ]);
  });
});
