import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import {
  type AppServer,
  backupDatabase,
  buildServer,
  executeRows,
  restoreDatabase,
  type Settings,
  startApp,
  verifyPassword,
} from 'groundwork-pg';
import {
  createTestDatabase,
  databaseRefusal,
  serveOnDatabase,
  setupTestApp,
  testBackend,
  testSettings,
} from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { users } from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app, { env: { DB_POOL_MAX: '4' } });

const PASSWORD = 'correct horse 1';

async function createUser(server: AppServer, email: string) {
  const response = await server.inject({
    method: 'POST',
    url: '/api/v1/users',
    payload: { email, password: PASSWORD },
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

/** The SQLSTATE and constraint a raw statement fails with: proof the database itself enforces the rule. */
const violation = (statement: ReturnType<typeof sql>) => databaseRefusal(t.db.execute(statement));

describe('database connection and test isolation (AC5, AC7)', () => {
  it('pings the test database, never the development one, with the configured pool', async () => {
    expect(await t.handle.ping()).toBeGreaterThanOrEqual(0);
    const settings = t.app.settings;
    if (testBackend === 'postgres') {
      // A database of its own per test, created from the migrated template and dropped afterwards.
      expect(new URL(settings.databaseUrl!).pathname).toMatch(/^\/gwt_learnr_[0-9a-f]{12}$/);
      expect(t.handle.stats()).toMatchObject({ engine: 'postgres', max: 4 });
    } else {
      expect(settings.databaseUrl).toBeUndefined();
      expect(t.handle.engine).toBe('pglite');
    }
    expect(settings.pool.max).toBe(4);
    expect(settings.nodeEnv).toBe('test');
  });

  it('defaults the pool to the story’s 15 connections (pool_size 5 + max_overflow 10)', () => {
    expect(testSettings(app).pool.max).toBe(15);
  });
});

describe('users model: create and query through the repository', () => {
  it('inserts and reads a user with database defaults', async () => {
    const repository = createUsersRepository(t.db);
    const created = await repository.create({ email: 'ann@x.io', hashedPassword: 'not-a-real-hash' });
    expect(created).toMatchObject({
      email: 'ann@x.io',
      isAdmin: false,
      darkMode: 'auto',
      examDate: null,
      targetScore: null,
      dailyStudyTime: null,
      knowledgeLevel: null,
      motivation: null,
      referralSource: null,
    });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await repository.findById({ id: created.id })).toEqual(created);
    expect(await repository.update({ id: created.id, changes: {} })).toEqual(created);
    expect(
      await repository.update({ id: '00000000-0000-4000-8000-000000000000', changes: { darkMode: 'dark' } }),
    ).toBeUndefined();
  });

  it('writes inside a caller’s transaction and leaves nothing when it rolls back', async () => {
    const repository = createUsersRepository(t.db);
    await expect(
      t.db.transaction(async (tx) => {
        await repository.create({ email: 'tx@x.io', hashedPassword: 'h' }, tx);
        expect((await repository.list({ limit: 10, offset: 0 }, tx)).count).toBe(1);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await repository.list({ limit: 10, offset: 0 })).count).toBe(0);
  });

  it('keeps updated_at true in the database, whatever writes the row', async () => {
    // Written in the past, so a clock that has not moved since the insert cannot pass or fail the check.
    const [created] = await executeRows<{ id: string }>(
      t.db,
      sql`insert into users (email, hashed_password, created_at, updated_at)
          values ('clock@x.io', 'h', '2000-01-01Z', '2000-01-01Z') returning id`,
    );
    await t.db.execute(sql`update users set motivation = 'raw sql' where id = ${created!.id}`);
    const [row] = await executeRows<{ later: boolean }>(
      t.db,
      sql`select updated_at > created_at as later from users where id = ${created!.id}`,
    );
    expect(row?.later).toBe(true);
  });
});

describe('schema rules enforced by the database itself', () => {
  const insert = (column: string, value: unknown) =>
    sql`insert into users (email, hashed_password, ${sql.identifier(column)}) values ('c@x.io', 'h', ${value})`;

  it.each([
    ['target_score', -1, 'check_target_score_range'],
    ['target_score', 101, 'check_target_score_range'],
    ['daily_study_time', 0, 'check_daily_study_time_range'],
    ['daily_study_time', 1441, 'check_daily_study_time_range'],
    ['knowledge_level', 'Expert', 'check_knowledge_level'],
    ['referral_source', 'TV', 'check_referral_source'],
    ['dark_mode', 'sepia', 'check_dark_mode'],
  ])('rejects %s = %s with %s', async (column, value, constraint) => {
    expect(await violation(insert(column, value))).toEqual({ code: '23514', constraint });
  });

  it('accepts the boundary values', async () => {
    await t.db.execute(sql`insert into users (email, hashed_password, target_score, daily_study_time)
      values ('lo@x.io', 'h', 0, 1), ('hi@x.io', 'h', 100, 1440)`);
    expect((await createUsersRepository(t.db).list({ limit: 10, offset: 0 })).count).toBe(2);
  });

  it('treats emails differing only in case as the same account', async () => {
    await t.db.execute(sql`insert into users (email, hashed_password) values ('Ann@x.io', 'h')`);
    expect(await violation(sql`insert into users (email, hashed_password) values ('ann@X.IO', 'h')`)).toEqual(
      {
        code: '23505',
        constraint: 'idx_users_email',
      },
    );
  });

  it('requires email, hashed_password, is_admin and dark_mode', async () => {
    for (const statement of [
      sql`insert into users (hashed_password) values ('h')`,
      sql`insert into users (email) values ('n@x.io')`,
      sql`insert into users (email, hashed_password, is_admin) values ('n@x.io', 'h', null)`,
      sql`insert into users (email, hashed_password, dark_mode) values ('n@x.io', 'h', null)`,
    ]) {
      expect((await violation(statement)).code).toBe('23502');
    }
  });

  it('has the story’s indexes: unique on email, btree on created_at', async () => {
    const rows = await executeRows<{ indexname: string; indexdef: string }>(
      t.db,
      sql`select indexname, indexdef from pg_indexes where tablename = 'users' order by indexname`,
    );
    expect(rows.map((r) => r.indexname)).toEqual(['idx_users_created_at', 'idx_users_email', 'users_pkey']);
    expect(rows[1]?.indexdef).toMatch(/CREATE UNIQUE INDEX idx_users_email .*lower\(\(email\)::text\)/);
  });
});

describe('users API', () => {
  it('creates a user (201) without ever returning the password or its hash', async () => {
    const response = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: ' Ann@Example.io ', password: PASSWORD },
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({
      email: 'ann@example.io',
      is_admin: false,
      dark_mode: 'auto',
      target_score: null,
    });
    expect(response.body).not.toContain(PASSWORD);
    expect(response.body).not.toMatch(/argon2|hashed_password/);
    expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const [row] = await t.db.select().from(users);
    expect(row?.hashedPassword).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(row!.hashedPassword, PASSWORD)).toBe(true);
  });

  it('answers 409 naming the email for a duplicate in any letter case', async () => {
    await createUser(t.server, 'ann@x.io');
    const response = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'ANN@x.io', password: PASSWORD },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({
      code: 'conflict',
      fields: [{ field: 'email', message: 'already exists' }],
    });
    expect(response.body).not.toContain('ann@x.io');
  });

  it('answers 400 listing every invalid field, and for unknown fields', async () => {
    const response = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'nope', password: 'short' },
    });
    expect(response.statusCode).toBe(400);
    const fields = response.json().error.fields.map((f: { field: string }) => f.field);
    expect(new Set(fields)).toEqual(new Set(['email', 'password']));

    const unknown = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'a@x.io', password: PASSWORD, is_admin: true },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.fields).toEqual([{ field: 'is_admin', message: 'unknown field' }]);
  });

  it('reads one user (200), 404 for an unknown id, 400 for a malformed one', async () => {
    const created = await createUser(t.server, 'read@x.io');
    const found = await t.server.inject({ url: `/api/v1/users/${created.id}` });
    expect(found.statusCode).toBe(200);
    expect(found.json()).toEqual(created);

    const missing = await t.server.inject({ url: '/api/v1/users/00000000-0000-4000-8000-000000000000' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'not_found', message: 'User not found' });

    const malformed = await t.server.inject({ url: '/api/v1/users/42' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.fields).toEqual([{ field: 'id', message: 'id must be a UUID' }]);
  });

  it('updates onboarding fields (200), clears them with null, and moves updated_at', async () => {
    const created = await createUser(t.server, 'onboard@x.io');
    const patch = (payload: object, id = created.id) =>
      t.server.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, payload });

    const answers = {
      exam_date: '2026-06-30',
      target_score: 90,
      daily_study_time: 60,
      knowledge_level: 'Beginner',
      motivation: 'pass the exam',
      referral_source: 'Social',
      dark_mode: 'dark',
    };
    const updated = await patch(answers);
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({
      id: created.id,
      email: 'onboard@x.io',
      ...answers,
      created_at: created.created_at,
    });
    expect(Date.parse(updated.json().updated_at)).toBeGreaterThan(Date.parse(created.updated_at));

    const cleared = await patch({ target_score: null, motivation: null });
    expect(cleared.json()).toMatchObject({ target_score: null, motivation: null, daily_study_time: 60 });

    expect((await patch({ dark_mode: 'light' }, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(
      404,
    );
  });

  it('answers 400 before the database would answer 422, naming the field', async () => {
    const created = await createUser(t.server, 'bad@x.io');
    for (const [payload, field] of [
      [{ target_score: 101 }, 'target_score'],
      [{ daily_study_time: 0 }, 'daily_study_time'],
      [{ knowledge_level: 'Expert' }, 'knowledge_level'],
      [{ referral_source: 'TV' }, 'referral_source'],
      [{ dark_mode: null }, 'dark_mode'],
      [{ exam_date: 'soon' }, 'exam_date'],
    ] as const) {
      const response = await t.server.inject({
        method: 'PATCH',
        url: `/api/v1/users/${created.id}`,
        payload,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.fields[0].field).toBe(field);
    }
    for (const payload of [{}, { is_admin: true }, { email: 'other@x.io' }]) {
      const response = await t.server.inject({
        method: 'PATCH',
        url: `/api/v1/users/${created.id}`,
        payload,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const [row] = await t.db.select().from(users);
    expect(row).toMatchObject({ isAdmin: false, targetScore: null, darkMode: 'auto', email: 'bad@x.io' });
  });

  it('lists users newest first as {data, count}, paged by limit and offset', async () => {
    for (const name of ['first', 'second', 'third']) await createUser(t.server, `${name}@x.io`);
    const page = await t.server.inject({ url: '/api/v1/users?limit=2' });
    expect(page.statusCode).toBe(200);
    expect(page.json().count).toBe(3);
    expect(page.json().data.map((u: { email: string }) => u.email)).toEqual(['third@x.io', 'second@x.io']);
    const next = await t.server.inject({ url: '/api/v1/users?limit=2&offset=2' });
    expect(next.json()).toMatchObject({ count: 3, data: [{ email: 'first@x.io' }] });
    expect(next.body).not.toMatch(/argon2|hashed_password/);

    expect((await t.server.inject({ url: '/api/v1/users?limit=0' })).statusCode).toBe(400);
    expect((await t.server.inject({ url: '/api/v1/users?limit=101' })).statusCode).toBe(400);
    expect((await t.server.inject({ url: '/api/v1/users?sort=email' })).statusCode).toBe(400);
  });

  it('reports health with the database state, and documents every route', async () => {
    const health = await t.server.inject({ url: '/api/v1/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', database: 'connected', engine: testBackend });
    expect(health.json().migrations.pending).toBe(0);

    const docs = await t.server.inject({ url: '/docs/json' });
    expect(docs.statusCode).toBe(200);
    expect(Object.keys(docs.json().paths)).toEqual(
      expect.arrayContaining(['/api/v1/users', '/api/v1/users/{id}', '/api/v1/health']),
    );
  });
});

describe('when the database is unreachable', () => {
  it('answers 503 with Retry-After on health and on the API, leaking no connection details', async () => {
    const url = 'postgres://learnr:Sup3rSecret@127.0.0.1:1/learnr_dev';
    const { server } = await serveOnDatabase(app, url, { DB_CONNECT_TIMEOUT_MS: '500' });
    try {
      const health = await server.inject({ url: '/api/v1/health' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ status: 'unavailable', database: 'disconnected' });
      const list = await server.inject({ url: '/api/v1/users' });
      expect(list.statusCode).toBe(503);
      expect(list.headers['retry-after']).toBeDefined();
      for (const body of [health.body, list.body]) expect(body).not.toMatch(/Sup3rSecret|127\.0\.0\.1/);
    } finally {
      await server.close();
    }
  });
});

describe('backup and restore', () => {
  /** Runs the app the way `npm start` would, on `settings`, and stops it: restore needs it stopped. */
  async function withRunningApp<T>(settings: Settings, work: (server: AppServer) => Promise<T>): Promise<T> {
    const running = await startApp(app, { settings, migrate: true });
    const server = await buildServer([running], { logLevel: 'silent', mount: 'root' });
    try {
      return await work(server);
    } finally {
      await server.close();
    }
  }

  it('backs up, changes data, restores, and finds the original rows', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'learnr-backup-'));
    // Server: a throwaway database of its own. Embedded: a PGlite data directory on disk, as in production.
    const database = testBackend === 'postgres' ? await createTestDatabase(app) : undefined;
    await database?.handle.close();
    const settings = database?.settings ?? testSettings(app, { DATA_DIR: join(folder, 'data') });
    const file = join(folder, testBackend === 'postgres' ? 'learnr.dump' : 'learnr.tar.gz');
    const emails = async (server: AppServer) =>
      (await server.inject({ url: '/api/v1/users' })).json().data.map((u: { email: string }) => u.email);
    try {
      const original = await withRunningApp(settings, async (server) => {
        await createUser(server, 'kept@x.io');
        const ann = await createUser(server, 'ann@x.io');
        await server.inject({
          method: 'PATCH',
          url: `/api/v1/users/${ann.id}`,
          payload: { target_score: 70 },
        });
        return emails(server);
      });
      expect(original).toEqual(['ann@x.io', 'kept@x.io']);

      await backupDatabase(settings, file);

      await withRunningApp(settings, async (server) => {
        await createUser(server, 'after-backup@x.io');
        const [ann] = (await server.inject({ url: '/api/v1/users?limit=100' }))
          .json()
          .data.filter((u: { email: string }) => u.email === 'ann@x.io');
        await server.inject({
          method: 'PATCH',
          url: `/api/v1/users/${ann.id}`,
          payload: { target_score: 5 },
        });
        expect(await emails(server)).toHaveLength(3);
      });

      await restoreDatabase(settings, file);

      await withRunningApp(settings, async (server) => {
        expect(await emails(server)).toEqual(original);
        const ann = (await server.inject({ url: '/api/v1/users' })).json().data[0];
        expect(ann.target_score).toBe(70);
        // The restored database is at head: migrations state came back with the rows.
        expect((await server.inject({ url: '/api/v1/health' })).json().migrations.pending).toBe(0);
      });
    } finally {
      await database?.dispose();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
