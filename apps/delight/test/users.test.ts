import { eq } from 'drizzle-orm';
import { type AppServer, executeRows } from 'groundwork-pg';
import { databaseRefusal, serveOnDatabase, setupTestApp } from 'groundwork-pg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { userPreferences, users } from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';
import { needsVector, vector } from './support.ts';

const hours = { start: '09:00', end: '17:00', timezone: 'America/Los_Angeles' };
const channels = { email: true, sms: false, in_app: true };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The fields a 4xx body names. */
const fieldsOf = (body: { error: { fields?: { field: string }[] } }) =>
  body.error.fields?.map((f) => f.field);

// Every test here needs the migrated database, whose first migration needs pgvector.
describe.skipIf(!vector.available)(needsVector('delight with its database'), () => {
  const t = setupTestApp(app);
  const rows = <T extends Record<string, unknown>>(query: string) => executeRows<T>(t.db, query);

  const post = (payload: Record<string, unknown>) =>
    t.server.inject({ method: 'POST', url: '/api/v1/users', payload });
  const put = (id: string, payload: Record<string, unknown>) =>
    t.server.inject({ method: 'PUT', url: `/api/v1/users/${id}/preferences`, payload });
  const byClerkId = (clerkUserId: string) =>
    t.server.inject({ method: 'GET', url: `/api/v1/users/by-clerk-id/${clerkUserId}` });
  const remove = (id: string) => t.server.inject({ method: 'DELETE', url: `/api/v1/users/${id}` });

  async function createUser(overrides: Record<string, unknown> = {}) {
    const response = await post({ clerk_user_id: 'user_2abcDEF123', email: 'ada@example.com', ...overrides });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as {
      id: string;
      clerk_user_id: string;
      timezone: string;
      created_at: string;
      updated_at: string;
    };
  }

  describe('the story’s test script (AC6), through the API', () => {
    it('creates a user, creates their preferences, reads both by Clerk id, and deletes with a cascade', async () => {
      // Test 1: create user
      const user = await createUser({ timezone: 'America/Los_Angeles' });
      expect(user).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        clerk_user_id: 'user_2abcDEF123',
        email: 'ada@example.com',
        timezone: 'America/Los_Angeles',
        created_at: expect.stringMatching(ISO),
        updated_at: expect.stringMatching(ISO),
      });

      // Test 2: create user preferences
      const created = await put(user.id, {
        theme: 'medieval',
        custom_hours: hours,
        communication_preferences: channels,
      });
      expect(created.statusCode, created.body).toBe(201);
      const preferences = created.json();
      expect(preferences).toMatchObject({
        user_id: user.id,
        theme: 'medieval',
        custom_hours: hours,
        communication_preferences: channels,
        onboarding_completed: false,
      });

      // Test 3: query user with preferences by clerk_user_id
      const found = await byClerkId('user_2abcDEF123');
      expect(found.statusCode).toBe(200);
      expect(found.json()).toEqual({ ...user, preferences });

      // Cleanup: deleting the user takes the preferences with it (ON DELETE CASCADE)
      expect((await remove(user.id)).statusCode).toBe(204);
      expect((await byClerkId('user_2abcDEF123')).statusCode).toBe(404);
      expect(await t.db.select().from(userPreferences)).toEqual([]);
    });
  });

  describe('POST /api/v1/users', () => {
    it('defaults the timezone to UTC and stores IANA names in canonical case', async () => {
      expect((await createUser()).timezone).toBe('UTC');
      const second = await createUser({ clerk_user_id: 'user_2second', timezone: 'europe/paris' });
      expect(second.timezone).toBe('Europe/Paris');
    });

    it('answers 409 naming clerk_user_id when the Clerk id is already registered', async () => {
      await createUser();
      const duplicate = await post({ clerk_user_id: 'user_2abcDEF123', email: 'other@example.com' });
      expect(duplicate.statusCode).toBe(409);
      expect(duplicate.json().error).toMatchObject({
        code: 'conflict',
        message: 'clerk_user_id already exists',
      });
      expect(await t.db.select().from(users)).toHaveLength(1);
    });
  });

  describe('GET /api/v1/users/by-clerk-id/{clerkUserId}', () => {
    it('returns preferences: null for a user who has not set any, and 404 for an unknown Clerk id', async () => {
      const user = await createUser();
      const found = await byClerkId(user.clerk_user_id);
      expect(found.statusCode).toBe(200);
      expect(found.json()).toEqual({ ...user, preferences: null });
      const unknown = await byClerkId('user_2nobody');
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error).toEqual({ code: 'not_found', message: 'User not found' });
    });

    it('loads the user and the preferences in one SQL statement, not 1 + N', async () => {
      const user = await createUser();
      expect((await put(user.id, { theme: 'medieval' })).statusCode).toBe(201);
      // Count what Drizzle sends through its logger; the repository is built after the logger is set because
      // prepared statements keep the logger they were prepared with.
      const session = (t.db as unknown as { session: { logger: unknown } }).session;
      const original = session.logger;
      const statements: string[] = [];
      session.logger = { logQuery: (query: string) => statements.push(query) };
      try {
        const found = await createUsersRepository(t.db).findByClerkId({ clerkUserId: user.clerk_user_id });
        expect(found?.preferences?.theme).toBe('medieval');
      } finally {
        session.logger = original;
      }
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/from "users"/);
      expect(statements[0]).toMatch(/"user_preferences"/);
    });
  });

  describe('PUT /api/v1/users/{id}/preferences', () => {
    it('creates (201), then replaces (200) the same row: omitted fields go back to their defaults', async () => {
      const user = await createUser();
      const first = await put(user.id, {
        custom_hours: hours,
        theme: 'medieval',
        communication_preferences: channels,
        onboarding_completed: true,
      });
      expect(first.statusCode).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await put(user.id, {
        communication_preferences: { email: false, sms: true, in_app: false },
      });
      expect(second.statusCode).toBe(200);
      const [before, after] = [first.json(), second.json()];
      expect(after).toEqual({
        id: before.id,
        user_id: user.id,
        custom_hours: null,
        theme: 'modern',
        communication_preferences: { email: false, sms: true, in_app: false },
        onboarding_completed: false,
        created_at: before.created_at,
        updated_at: expect.stringMatching(ISO),
      });
      // The trigger moved updated_at on the ON CONFLICT DO UPDATE.
      expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
      expect(await t.db.select().from(userPreferences)).toHaveLength(1);
    });

    it('answers 404 for an unknown user', async () => {
      const unknown = await put('00000000-0000-4000-8000-000000000000', {});
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error.code).toBe('not_found');
      expect(await t.db.select().from(userPreferences)).toEqual([]);
    });
  });

  describe('DELETE /api/v1/users/{id}', () => {
    it('deletes only that user (and their preferences), 404 when already gone', async () => {
      const ada = await createUser();
      const bob = await createUser({ clerk_user_id: 'user_2bob', email: 'bob@example.com' });
      await put(ada.id, { theme: 'medieval' });
      await put(bob.id, { theme: 'modern' });
      expect((await remove(ada.id)).statusCode).toBe(204);
      expect((await remove(ada.id)).statusCode).toBe(404);
      expect(await t.db.select({ userId: userPreferences.userId }).from(userPreferences)).toEqual([
        { userId: bob.id },
      ]);
      expect((await byClerkId('user_2bob')).json().preferences.theme).toBe('modern');
    });
  });

  describe('the database enforces the rules on its own', () => {
    it('allows one preferences row per user (unique user_id), whatever the writer', async () => {
      const user = await createUser();
      await t.db.insert(userPreferences).values({ userId: user.id });
      expect(
        await databaseRefusal(t.db.insert(userPreferences).values({ userId: user.id, theme: 'medieval' })),
      ).toEqual({
        code: '23505',
        constraint: 'user_preferences_user_id_key',
      });
    });

    it('refuses preferences for a user that does not exist, and cascades deletes', async () => {
      expect(
        await databaseRefusal(
          t.db.insert(userPreferences).values({ userId: '00000000-0000-4000-8000-000000000000' }),
        ),
      ).toEqual({ code: '23503', constraint: 'user_preferences_user_id_users_id_fk' });
      const user = await createUser();
      await t.db.insert(userPreferences).values({ userId: user.id });
      await t.db.delete(users).where(eq(users.id, user.id));
      expect(await t.db.select().from(userPreferences)).toEqual([]);
    });

    it('refuses a duplicate clerk_user_id', async () => {
      await createUser();
      expect(
        await databaseRefusal(
          t.db.insert(users).values({ clerkUserId: 'user_2abcDEF123', email: 'x@example.com' }),
        ),
      ).toEqual({ code: '23505', constraint: 'ix_users_clerk_user_id' });
    });

    it('keeps updated_at true: it moves on every update, even when the writer sets it', async () => {
      const user = await createUser();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await t.db
        .update(users)
        .set({ email: 'new@example.com', updatedAt: new Date('2000-01-01T00:00:00Z') })
        .where(eq(users.id, user.id));
      const [row] = await t.db.select().from(users).where(eq(users.id, user.id));
      expect(row!.createdAt.toISOString()).toBe(user.created_at);
      expect(row!.updatedAt.getTime()).toBeGreaterThan(row!.createdAt.getTime());
      const [prefs] = await t.db.insert(userPreferences).values({ userId: user.id }).returning();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await t.db.update(userPreferences).set({ theme: 'medieval' }).where(eq(userPreferences.id, prefs!.id));
      const [updated] = await t.db.select().from(userPreferences);
      expect(updated!.updatedAt.getTime()).toBeGreaterThan(prefs!.updatedAt.getTime());
      expect(updated!.createdAt).toEqual(prefs!.createdAt);
    });

    it('stores and reads the jsonb columns as objects', async () => {
      const user = await createUser();
      await put(user.id, { custom_hours: hours, communication_preferences: channels });
      const [row] = await rows<{ start: string; email: boolean }>(
        `select custom_hours->>'start' as start, (communication_preferences->>'email')::boolean as email
           from user_preferences`,
      );
      expect(row).toEqual({ start: '09:00', email: true });
    });
  });

  describe('GET /api/v1/health', () => {
    it('reports the database connected, migrations at head and the vector extension version', async () => {
      const response = await t.server.inject({ method: 'GET', url: '/api/v1/health' });
      expect(response.statusCode).toBe(200);
      const [installed] = await rows<{ version: string }>(
        `select extversion as version from pg_extension where extname = 'vector'`,
      );
      expect(response.json()).toMatchObject({
        status: 'ok',
        database: 'connected',
        migrations: { pending: 0 },
        vector: { installed: true, version: installed!.version },
      });
      expect(installed!.version).toMatch(/^\d+\.\d+/);
    });
  });

  describe('schema at head', () => {
    it('has the columns of the story, with types, nullability and defaults exactly as specified', async () => {
      const columns = await rows(
        `select table_name as table, column_name as column, data_type as type,
                character_maximum_length as length, is_nullable as nullable, column_default as default
           from information_schema.columns
          where table_schema = 'public' and table_name in ('users', 'user_preferences')
          order by table_name desc, ordinal_position`,
      );
      const timestamp = 'timestamp with time zone';
      const c = (
        table: string,
        column: string,
        type: string,
        length: number | null,
        nullable: string,
        dflt: string | null,
      ) => ({ table, column, type, length, nullable, default: dflt });
      expect(columns).toEqual([
        c('users', 'id', 'uuid', null, 'NO', 'gen_random_uuid()'),
        c('users', 'clerk_user_id', 'character varying', 255, 'NO', null),
        c('users', 'email', 'character varying', 255, 'NO', null),
        c('users', 'timezone', 'character varying', 50, 'NO', "'UTC'::character varying"),
        c('users', 'created_at', timestamp, null, 'NO', 'now()'),
        c('users', 'updated_at', timestamp, null, 'NO', 'now()'),
        c('user_preferences', 'id', 'uuid', null, 'NO', 'gen_random_uuid()'),
        c('user_preferences', 'user_id', 'uuid', null, 'NO', null),
        c('user_preferences', 'custom_hours', 'jsonb', null, 'YES', null),
        c('user_preferences', 'theme', 'character varying', 50, 'YES', "'modern'::character varying"),
        c('user_preferences', 'communication_preferences', 'jsonb', null, 'YES', null),
        c('user_preferences', 'onboarding_completed', 'boolean', null, 'NO', 'false'),
        c('user_preferences', 'created_at', timestamp, null, 'NO', 'now()'),
        c('user_preferences', 'updated_at', timestamp, null, 'NO', 'now()'),
      ]);
    });

    it('has the keys: uuid primary keys, unique user_id, a cascading foreign key and a unique clerk_user_id index', async () => {
      expect(
        await rows(
          `select conname as name, pg_get_constraintdef(oid) as definition from pg_constraint
            where conrelid in ('users'::regclass, 'user_preferences'::regclass)
              and contype <> 'n' -- PostgreSQL 18 (PGlite) also lists NOT NULL here; columns are checked above
            order by conname`,
        ),
      ).toEqual([
        { name: 'user_preferences_pkey', definition: 'PRIMARY KEY (id)' },
        { name: 'user_preferences_user_id_key', definition: 'UNIQUE (user_id)' },
        {
          name: 'user_preferences_user_id_users_id_fk',
          definition: 'FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE',
        },
        { name: 'users_pkey', definition: 'PRIMARY KEY (id)' },
      ]);
      expect(
        await rows(
          `select indexname as name, indexdef as definition from pg_indexes where tablename = 'users' order by 1`,
        ),
      ).toEqual([
        {
          name: 'ix_users_clerk_user_id',
          definition:
            'CREATE UNIQUE INDEX ix_users_clerk_user_id ON public.users USING btree (clerk_user_id)',
        },
        { name: 'users_pkey', definition: 'CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)' },
      ]);
    });

    it('keeps updated_at with BEFORE UPDATE triggers on both tables', async () => {
      expect(
        await rows(
          `select tgrelid::regclass::text as table, tgname as name, p.proname as function
             from pg_trigger t join pg_proc p on p.oid = t.tgfoid where not tgisinternal order by 1, 2`,
        ),
      ).toEqual([
        {
          table: 'user_preferences',
          name: 'user_preferences_set_updated_at',
          function: 'delight_set_updated_at',
        },
        { table: 'users', name: 'users_set_updated_at', function: 'delight_set_updated_at' },
      ]);
    });

    it('has pgvector enabled and working (the story’s AC3 query returns a row)', async () => {
      const [extension] = await rows<{ extname: string; extversion: string }>(
        `SELECT * FROM pg_extension WHERE extname = 'vector'`,
      );
      expect(extension?.extname).toBe('vector');
      expect(extension?.extversion).toMatch(/^\d+\.\d+/);
      const [distance] = await rows<{ d: number }>(`select '[1,2,3]'::vector <-> '[1,2,5]'::vector as d`);
      expect(Number(distance?.d)).toBe(2);
    });
  });
});

/**
 * Requests refused before any database work, and what the app says when the database is gone. The database
 * here is unreachable, so a 400 (not a 503) also proves the handler never ran: nothing can have been written.
 * None of this needs pgvector, so it runs on every backend.
 */
describe('delight before any database work', () => {
  let server: AppServer;
  beforeAll(async () => {
    ({ server } = await serveOnDatabase(app, 'postgres://postgres@127.0.0.1:1/nowhere'));
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = (payload: Record<string, unknown>) =>
    server.inject({ method: 'POST', url: '/api/v1/users', payload });
  const put = (id: string, payload: Record<string, unknown>) =>
    server.inject({ method: 'PUT', url: `/api/v1/users/${id}/preferences`, payload });

  it('POST /api/v1/users refuses bad input with 400 naming every field', async () => {
    const response = await post({ clerk_user_id: 'not-a-clerk-id', email: 'nope', timezone: 'Mars/Olympus' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('validation_error');
    expect(fieldsOf(response.json())).toEqual(['clerk_user_id', 'email', 'timezone']);
    const missing = await post({});
    expect(missing.statusCode).toBe(400);
    expect(fieldsOf(missing.json())).toEqual(['clerk_user_id', 'email']);
    for (const timezone of ['+01:00', 'UTC+1', 'x'.repeat(51), '']) {
      const bad = await post({ clerk_user_id: 'user_2tz', email: 'tz@example.com', timezone });
      expect(bad.statusCode, timezone).toBe(400);
      expect(fieldsOf(bad.json())).toEqual(['timezone']);
    }
  });

  it('refuses ids of the wrong shape in the URL with 400', async () => {
    const malformed = await put('42', {});
    expect(malformed.statusCode).toBe(400);
    expect(fieldsOf(malformed.json())).toEqual(['id']);
    const removal = await server.inject({ method: 'DELETE', url: '/api/v1/users/42' });
    expect(removal.statusCode).toBe(400);
    const lookup = await server.inject({ method: 'GET', url: '/api/v1/users/by-clerk-id/not_a_clerk_id' });
    expect(lookup.statusCode).toBe(400);
    expect(fieldsOf(lookup.json())).toEqual(['clerkUserId']);
  });

  it.each([
    ['start not HH:MM', { custom_hours: { ...hours, start: '9:00' } }, ['custom_hours.start']],
    ['hour 24', { custom_hours: { ...hours, end: '24:00' } }, ['custom_hours.end']],
    ['minute 60', { custom_hours: { ...hours, start: '08:60' } }, ['custom_hours.start']],
    ['end before start', { custom_hours: { ...hours, start: '18:00' } }, ['custom_hours.end']],
    ['end equal to start', { custom_hours: { ...hours, end: '09:00' } }, ['custom_hours.end']],
    ['unknown zone', { custom_hours: { ...hours, timezone: 'Pacific/Atlantis' } }, ['custom_hours.timezone']],
    ['missing zone', { custom_hours: { start: '09:00', end: '17:00' } }, ['custom_hours.timezone']],
    ['extra key in hours', { custom_hours: { ...hours, lunch: '12:00' } }, ['custom_hours.lunch']],
    ['hours not an object', { custom_hours: '09:00-17:00' }, ['custom_hours']],
    [
      'channel not boolean',
      { communication_preferences: { ...channels, sms: 'no' } },
      ['communication_preferences.sms'],
    ],
    [
      'channel missing',
      { communication_preferences: { email: true, sms: false } },
      ['communication_preferences.in_app'],
    ],
    ['theme too long', { theme: 'x'.repeat(51) }, ['theme']],
    ['onboarding not boolean', { onboarding_completed: 'yes' }, ['onboarding_completed']],
  ])('validates the jsonb shapes: %s -> 400', async (_name, body, fields) => {
    const response = await put('00000000-0000-4000-8000-000000000001', body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('validation_error');
    expect(fieldsOf(response.json())).toEqual(fields);
  });

  it('health answers 503 with database disconnected and no vector version, without leaking the URL', async () => {
    const response = await server.inject({ method: 'GET', url: '/api/v1/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: 'unavailable', database: 'disconnected', vector: null });
    expect(response.body).not.toMatch(/127\.0\.0\.1|nowhere|postgres:/);
  });

  it('serves its OpenAPI document listing every route', async () => {
    const response = await server.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json().paths).sort()).toEqual([
      '/api/v1/health',
      '/api/v1/users',
      '/api/v1/users/by-clerk-id/{clerkUserId}',
      '/api/v1/users/{id}',
      '/api/v1/users/{id}/preferences',
      '/health/live',
      '/health/ready',
    ]);
  });
});
