import { randomBytes } from 'node:crypto';
import { count, sql } from 'drizzle-orm';
import { executeRows, verifyPassword } from 'groundwork-pg';
import { databaseRefusal, setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { users } from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';
import { UserCreate } from '../src/users/schemas.ts';

const t = setupTestApp(app);

// An argon2id-shaped hash for rows inserted past the API; these tests never verify it.
const HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1d0iSEZaQP0Fh1Dr/8jS3w+0O1ce3t7hWeDc8LqCWOM';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const MISSING_ID = '8d7cbe3e-4a0c-4b8a-9b0e-5f1f8e9a0c11';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const repo = () => createUsersRepository(t.db);
const userCount = async () => (await t.db.select({ n: count() }).from(users))[0]!.n;

async function post(body: unknown) {
  return t.server.inject({ method: 'POST', url: '/api/v1/users', payload: body as object });
}

const login = (username: string, password: string) =>
  t.server.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });

function fieldsOf(response: { json(): any }): string[] {
  return (response.json().error.fields ?? []).map((f: { field: string }) => f.field);
}

describe('user model', () => {
  it('creates a user with database-generated id, defaults and timestamps', async () => {
    const row = await repo().create({ username: '\\campus\\jdoe', passwordHash: HASH });
    expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(row).toMatchObject({ username: '\\campus\\jdoe', passwordHash: HASH, isBlocked: false });
    expect(new Date(row.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(row.updatedAt).toBe(row.createdAt);
    expect(await repo().findById({ id: row.id })).toEqual(row);
  });

  it('rejects a duplicate username with a unique violation', async () => {
    await repo().create({ username: '\\campus\\jdoe', passwordHash: HASH });
    expect(
      await databaseRefusal(repo().create({ username: '\\campus\\jdoe', passwordHash: HASH })),
    ).toMatchObject({
      code: '23505',
    });
    expect(await userCount()).toBe(1);
  });

  const BAD_USERNAMES = [
    ['no backslashes', 'jdoe'],
    ['one leading backslash', '\\jdoe'],
    ['no leading backslash', 'campus\\jdoe'],
    ['an empty domain', '\\\\jdoe'],
    ['an empty name', '\\campus\\'],
    ['a third segment', '\\campus\\staff\\jdoe'],
    ['an empty string', ''],
  ];
  const GOOD_USERNAMES = ['\\a\\b', '\\CAMPUS.local\\jean-luc', '\\uni\\Zoë Müller'];

  it.each(BAD_USERNAMES)(
    'rejects a username with %s in the database itself (CHECK, not only zod)',
    async (_case, username) => {
      // Straight through Drizzle, past every zod schema: only the CHECK constraint stands in the way.
      expect(await databaseRefusal(t.db.insert(users).values({ username, passwordHash: HASH }))).toEqual({
        code: '23514',
        constraint: 'users_username_format',
      });
      expect(await userCount()).toBe(0);
    },
  );

  it('accepts domains and names with dots, dashes, spaces and non-ASCII letters', async () => {
    for (const username of GOOD_USERNAMES) await repo().create({ username, passwordHash: HASH });
    expect(await userCount()).toBe(3);
  });

  it('has the API schema agree with the CHECK constraint on every case above', () => {
    const verdict = (username: string) => UserCreate.safeParse({ username, password: 'long enough' }).success;
    expect(BAD_USERNAMES.map(([, username]) => verdict(username!))).toEqual(BAD_USERNAMES.map(() => false));
    expect(GOOD_USERNAMES.map(verdict)).toEqual(GOOD_USERNAMES.map(() => true));
  });

  it('has the database move updated_at on every update, whatever the writer sets', async () => {
    const row = await repo().create({ username: '\\campus\\jdoe', passwordHash: HASH });
    await pause(5);
    // A writer that tries to set updated_at itself (or forgets it) does not get the last word.
    await t.db.execute(
      sql`update users set is_blocked = true, updated_at = '2000-01-01T00:00:00Z' where id = ${row.id}`,
    );
    const after = (await repo().findById({ id: row.id }))!;
    expect(after.isBlocked).toBe(true);
    expect(after.createdAt).toBe(row.createdAt);
    expect(new Date(after.updatedAt).getTime()).toBeGreaterThan(new Date(row.createdAt).getTime());
  });

  it('moves updated_at past created_at even when the row is updated in the transaction that created it', async () => {
    const row = await t.db.transaction(async (tx) => {
      const created = await repo().create({ username: '\\campus\\jdoe', passwordHash: HASH }, tx);
      // now() would stay at the transaction's start however long it runs; clock_timestamp() moves on.
      await tx.execute(sql`select pg_sleep(0.005)`);
      return (await repo().setBlocked({ id: created.id, isBlocked: true }, tx))!;
    });
    expect(new Date(row.updatedAt).getTime()).toBeGreaterThan(new Date(row.createdAt).getTime());
  });

  it('has the trigger installed on the users table', async () => {
    const triggers = await executeRows<{ name: string; fn: string }>(
      t.db,
      sql`select tgname as name, tgfoid::regproc::text as fn from pg_trigger
           where tgrelid = 'users'::regclass and not tgisinternal`,
    );
    expect(triggers).toEqual([{ name: 'users_set_updated_at', fn: 'counseling_set_updated_at' }]);
  });
});

describe('POST /api/v1/users', () => {
  it('201 with the public user; the password is stored only as an argon2id hash', async () => {
    const response = await post({ username: '\\campus\\jdoe', password: 'correct horse' });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['created_at', 'id', 'is_blocked', 'updated_at', 'username']);
    expect(body).toMatchObject({ username: '\\campus\\jdoe', is_blocked: false });
    expect(body.created_at).toMatch(ISO);
    expect(body.updated_at).toMatch(ISO);
    expect(response.body).not.toContain('correct horse');
    expect(response.body).not.toContain('argon2');

    const row = (await repo().findById({ id: body.id }))!;
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(row.passwordHash, 'correct horse')).toBe(true);
    expect(await verifyPassword(row.passwordHash, 'wrong horse')).toBe(false);
  });

  it.each([
    ['a username without the \\domain\\ form', { username: 'jdoe', password: 'correct horse' }, 'username'],
    ['a username with an empty name', { username: '\\campus\\', password: 'correct horse' }, 'username'],
    [
      'a username over 255 characters',
      { username: `\\d\\${'x'.repeat(253)}`, password: 'long enough' },
      'username',
    ],
    ['a password of 7 characters', { username: '\\campus\\jdoe', password: '1234567' }, 'password'],
    ['a missing password', { username: '\\campus\\jdoe' }, 'password'],
    ['a missing username', { password: 'correct horse' }, 'username'],
    ['a non-string password', { username: '\\campus\\jdoe', password: 12345678 }, 'password'],
  ])('400 naming the field for %s, and nothing is written', async (_case, body, field) => {
    const response = await post(body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('validation_error');
    expect(fieldsOf(response)).toEqual([field]);
    expect(await userCount()).toBe(0);
  });

  it('400 for fields a client may not set (is_blocked, password_hash)', async () => {
    const response = await post({
      username: '\\campus\\jdoe',
      password: 'correct horse',
      is_blocked: true,
      password_hash: HASH,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.fields).toEqual([
      { field: 'is_blocked', message: 'unknown field' },
      { field: 'password_hash', message: 'unknown field' },
    ]);
    expect(await userCount()).toBe(0);
  });

  it('accepts a password of exactly 8 characters', async () => {
    expect((await post({ username: '\\campus\\jdoe', password: 'tr0ub4do' })).statusCode).toBe(201);
  });

  it.each([
    ['password', 'is on a list of common or breached passwords; choose another'],
    ['12345678', 'is on a list of common or breached passwords; choose another'],
    ['x'.repeat(1024), 'must be at most 128 characters'],
  ])('400 naming the rule for the password %#, and nothing is written', async (password, message) => {
    const response = await post({ username: '\\campus\\jdoe', password });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.fields).toEqual([{ field: 'password', message }]);
    expect(await userCount()).toBe(0);
  });

  it('registers a 64-character random password, which then logs in', async () => {
    const password = randomBytes(48).toString('base64');
    expect(password).toHaveLength(64);
    expect((await post({ username: '\\campus\\jdoe', password })).statusCode).toBe(201);
    expect((await login('\\campus\\jdoe', password)).statusCode).toBe(200);
  });

  it('400 for a body that is not JSON', async () => {
    const response = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { 'content-type': 'application/json' },
      payload: '{"username":',
    });
    expect(response.statusCode).toBe(400);
    expect(await userCount()).toBe(0);
  });

  it('409 naming username on a duplicate, leaving the first account untouched', async () => {
    const first = (await post({ username: '\\campus\\jdoe', password: 'first password' })).json();
    const response = await post({ username: '\\campus\\jdoe', password: 'second password' });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({
      code: 'conflict',
      fields: [{ field: 'username', message: 'already exists' }],
    });
    expect(response.body).not.toContain('second password');
    expect(await userCount()).toBe(1);
    const row = (await repo().findById({ id: first.id }))!;
    expect(await verifyPassword(row.passwordHash, 'first password')).toBe(true);
  });
});

describe('usernames are one account regardless of case (issue 11)', () => {
  it('409 naming username for \\CAMPUS\\ALICE beside \\campus\\alice; the first spelling is kept', async () => {
    expect((await post({ username: '\\campus\\alice', password: 'first password' })).statusCode).toBe(201);
    const response = await post({ username: '\\CAMPUS\\ALICE', password: 'second password' });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toEqual({
      code: 'conflict',
      message: 'username already exists',
      fields: [{ field: 'username', message: 'already exists' }],
    });
    expect((await t.db.select({ username: users.username }).from(users)).map((r) => r.username)).toEqual([
      '\\campus\\alice',
    ]);
  });

  it('registers \\campus\\İlkay, which then logs in whatever the case typed', async () => {
    expect((await post({ username: '\\campus\\İlkay', password: 'correct horse' })).statusCode).toBe(201);
    expect((await login('\\campus\\İlkay', 'correct horse')).statusCode).toBe(200);
    expect((await login('\\CAMPUS\\İLKAY', 'correct horse')).statusCode).toBe(200);
  });

  it('400 naming username for zero-width, bidirectional-override and control characters', async () => {
    for (const hidden of ['\u200b', '\u202e', '\u2066', '\u0007', '\ufeff']) {
      const response = await post({ username: `\\campus\\ad${hidden}min`, password: 'correct horse' });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.fields).toEqual([
        {
          field: 'username',
          message: 'must not contain control, invisible (zero-width, bidirectional) or unassigned characters',
        },
      ]);
    }
    expect(await userCount()).toBe(0);
  });

  it('stores full-width look-alikes in their plain form (NFKC), so they are the same account', async () => {
    expect((await post({ username: '\\campus\\admin', password: 'correct horse' })).statusCode).toBe(201);
    const lookAlike = await post({ username: '\\campus\\ａｄｍｉｎ', password: 'correct horse' });
    expect(lookAlike.statusCode).toBe(409);
    const fullWidthDomain = await post({ username: '＼campus＼ｅｖｅ', password: 'correct horse' });
    expect(fullWidthDomain.statusCode).toBe(201);
    expect(fullWidthDomain.json().username).toBe('\\campus\\eve');
  });

  it('400 naming username for a NUL or a lone surrogate, before the database', async () => {
    for (const username of ['\\campus\\al\u0000ice', '\\campus\\al\ud800ice']) {
      const response = await post({ username, password: 'long enough' });
      expect(response.statusCode).toBe(400);
      expect(fieldsOf(response)).toEqual(['username']);
    }
    expect(await userCount()).toBe(0);
  });
});

describe('GET /api/v1/users/{id}', () => {
  it('200 with the public user', async () => {
    const created = (await post({ username: '\\campus\\jdoe', password: 'correct horse' })).json();
    const response = await t.server.inject({ method: 'GET', url: `/api/v1/users/${created.id}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(created);
  });

  it('404 for an id no user has', async () => {
    const response = await t.server.inject({ method: 'GET', url: `/api/v1/users/${MISSING_ID}` });
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toEqual({ code: 'not_found', message: 'User not found' });
  });

  it.each(['not-a-uuid', '123', `${MISSING_ID}0`])('400 naming id for the malformed id %s', async (id) => {
    const response = await t.server.inject({ method: 'GET', url: `/api/v1/users/${id}` });
    expect(response.statusCode).toBe(400);
    expect(fieldsOf(response)).toEqual(['id']);
  });
});

describe('GET /api/v1/users', () => {
  async function seed(n: number, blocked: (i: number) => boolean = () => false) {
    // One second apart: PGlite's clock ticks in milliseconds, so rows inserted back to back can tie.
    const rows = await t.db
      .insert(users)
      .values(
        Array.from({ length: n }, (_, i) => ({
          username: `\\campus\\user${i}`,
          passwordHash: HASH,
          isBlocked: blocked(i),
          createdAt: new Date(Date.UTC(2025, 11, 20, 12, 0, i)).toISOString(),
        })),
      )
      .returning({ id: users.id });
    return rows.map((row) => row.id);
  }
  const list = (query = '') => t.server.inject({ method: 'GET', url: `/api/v1/users${query}` });

  it('200 with an empty page and count 0 when there are no users', async () => {
    const response = await list();
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ data: [], count: 0 });
  });

  it('returns newest first, 20 by default, with the total count', async () => {
    const ids = await seed(22);
    const body = (await list()).json();
    expect(body.count).toBe(22);
    expect(body.data).toHaveLength(20);
    expect(body.data.map((u: { id: string }) => u.id)).toEqual(ids.slice().reverse().slice(0, 20));
    expect(body.data[0]).not.toHaveProperty('password_hash');
  });

  it('pages with limit and offset', async () => {
    const ids = (await seed(5)).reverse();
    const page = (await list('?limit=2&offset=2')).json();
    expect(page).toEqual({ data: expect.any(Array), count: 5 });
    expect(page.data.map((u: { id: string }) => u.id)).toEqual(ids.slice(2, 4));
    expect((await list('?limit=2&offset=10')).json()).toEqual({ data: [], count: 5 });
    expect((await list('?limit=100')).json().data).toHaveLength(5);
  });

  it('filters on blocked=true and blocked=false', async () => {
    await seed(5, (i) => i % 2 === 0);
    const blocked = (await list('?blocked=true')).json();
    expect(blocked.count).toBe(3);
    expect(blocked.data.every((u: { is_blocked: boolean }) => u.is_blocked)).toBe(true);
    const active = (await list('?blocked=false&limit=1')).json();
    expect(active.count).toBe(2);
    expect(active.data).toHaveLength(1);
    expect(active.data[0].is_blocked).toBe(false);
  });

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=101', 'limit'],
    ['?limit=ten', 'limit'],
    ['?limit=1.5', 'limit'],
    ['?offset=-1', 'offset'],
    ['?blocked=yes', 'blocked'],
    ['?sort=name', 'sort'],
  ])('400 naming the parameter for %s', async (query, field) => {
    const response = await list(query);
    expect(response.statusCode).toBe(400);
    expect(fieldsOf(response)).toEqual([field]);
  });
});

describe('PATCH /api/v1/users/{id}', () => {
  const patch = (id: string, body: unknown) =>
    t.server.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, payload: body as object });

  it('200 with the updated user; updated_at moves, created_at does not', async () => {
    const created = (await post({ username: '\\campus\\jdoe', password: 'correct horse' })).json();
    await pause(5); // the API shows milliseconds
    const blocked = await patch(created.id, { is_blocked: true });
    expect(blocked.statusCode).toBe(200);
    const body = blocked.json();
    expect(body).toMatchObject({ id: created.id, username: '\\campus\\jdoe', is_blocked: true });
    expect(body.created_at).toBe(created.created_at);
    expect(Date.parse(body.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
    expect(blocked.body).not.toContain('argon2');

    const unblocked = (await patch(created.id, { is_blocked: false })).json();
    expect(unblocked.is_blocked).toBe(false);
    expect((await t.server.inject({ method: 'GET', url: `/api/v1/users/${created.id}` })).json()).toEqual(
      unblocked,
    );
  });

  it('404 for an id no user has', async () => {
    const response = await patch(MISSING_ID, { is_blocked: true });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('not_found');
  });

  it('400 naming id for a malformed id', async () => {
    const response = await patch('nope', { is_blocked: true });
    expect(response.statusCode).toBe(400);
    expect(fieldsOf(response)).toEqual(['id']);
  });

  it.each([
    ['a missing is_blocked', {}, 'is_blocked'],
    ['a string is_blocked', { is_blocked: 'true' }, 'is_blocked'],
    ['a null is_blocked', { is_blocked: null }, 'is_blocked'],
  ])('400 naming the field for %s, and the user is unchanged', async (_case, body, field) => {
    const created = (await post({ username: '\\campus\\jdoe', password: 'correct horse' })).json();
    const response = await patch(created.id, body);
    expect(response.statusCode).toBe(400);
    expect(fieldsOf(response)).toEqual([field]);
    const row = (await repo().findById({ id: created.id }))!;
    expect(row.isBlocked).toBe(false);
    expect(new Date(row.updatedAt).toISOString()).toBe(created.updated_at);
  });

  it('400 when trying to change the username or password', async () => {
    const created = (await post({ username: '\\campus\\jdoe', password: 'correct horse' })).json();
    const response = await patch(created.id, { is_blocked: true, username: '\\campus\\other' });
    expect(response.statusCode).toBe(400);
    expect((await repo().findById({ id: created.id }))!).toMatchObject({
      username: '\\campus\\jdoe',
      isBlocked: false,
    });
  });
});

describe('API documentation', () => {
  it('serves an OpenAPI document listing every route', async () => {
    const response = await t.server.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const { paths } = response.json();
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining(['/health', '/api/v1/users', '/api/v1/users/{id}']),
    );
    expect(Object.keys(paths['/api/v1/users'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(paths['/api/v1/users/{id}'])).toEqual(expect.arrayContaining(['get', 'patch']));
    expect(JSON.stringify(paths)).not.toContain('password_hash');
  });
});
