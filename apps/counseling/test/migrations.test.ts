import { downgrade, readMigrations, readState, upgrade } from 'groundwork-pg';
import { createTestDatabase, describeMigrations } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';

// The shared contract: head reachable and drift-free, every step reversible, base leaves nothing behind.
describeMigrations(app);

type Handle = Awaited<ReturnType<typeof createTestDatabase>>['handle'];

async function query<T>(handle: Handle, text: string): Promise<T[]> {
  const session = await handle.session();
  try {
    return await session.query<T>(text);
  } finally {
    await session.release();
  }
}

const usersTableExists = async (handle: Handle) =>
  (await query<{ present: boolean }>(handle, `select to_regclass('public.users') is not null as present`))[0]!
    .present;

const triggers = async (handle: Handle) =>
  (
    await query<{ tgname: string }>(
      handle,
      `select tgname from pg_trigger where not tgisinternal and tgrelid = to_regclass('public.users')`,
    )
  ).map((row) => row.tgname);

describe('counseling schema (story 002)', () => {
  it('upgrades a clean database to the users table the story specifies, then down and up again', async () => {
    const database = await createTestDatabase(app, { migrate: false });
    const { handle } = database;
    try {
      const migrations = readMigrations(app.migrationsDir);
      expect(migrations.map((m) => m.name)).toEqual([
        expect.stringMatching(/_create_users_table$/),
        expect.stringMatching(/_usernames_unique_regardless_of_case$/),
        expect.stringMatching(/_users_listed_newest_first_by_index$/),
        expect.stringMatching(/_auth_sessions$/),
        expect.stringMatching(/_sessions_idle_timeout$/),
      ]);
      const initial = migrations[0];
      expect(await usersTableExists(handle)).toBe(false);

      await upgrade(handle, app.migrationsDir, initial!.id);
      expect((await readState(handle, app.migrationsDir)).current).toBe(initial!.id);

      const columns = await query<Record<string, unknown>>(
        handle,
        `select column_name, data_type, character_maximum_length as length, is_nullable, column_default
           from information_schema.columns where table_schema = 'public' and table_name = 'users'
          order by ordinal_position`,
      );
      expect(columns).toEqual([
        {
          column_name: 'id',
          data_type: 'uuid',
          length: null,
          is_nullable: 'NO',
          column_default: 'gen_random_uuid()',
        },
        {
          column_name: 'username',
          data_type: 'character varying',
          length: 255,
          is_nullable: 'NO',
          column_default: null,
        },
        {
          column_name: 'password_hash',
          data_type: 'character varying',
          length: 255,
          is_nullable: 'NO',
          column_default: null,
        },
        {
          column_name: 'is_blocked',
          data_type: 'boolean',
          length: null,
          is_nullable: 'NO',
          column_default: 'false',
        },
        {
          column_name: 'created_at',
          data_type: 'timestamp with time zone',
          length: null,
          is_nullable: 'NO',
          column_default: 'now()',
        },
        {
          column_name: 'updated_at',
          data_type: 'timestamp with time zone',
          length: null,
          is_nullable: 'NO',
          column_default: 'now()',
        },
      ]);

      const constraints = await query<{ conname: string; contype: string; definition: string }>(
        handle,
        // PostgreSQL 18 (PGlite) also lists NOT NULL as constraints; nullability is checked above.
        `select conname, contype, pg_get_constraintdef(oid) as definition from pg_constraint
          where conrelid = 'public.users'::regclass and contype <> 'n' order by conname`,
      );
      expect(constraints).toEqual([
        { conname: 'users_pkey', contype: 'p', definition: 'PRIMARY KEY (id)' },
        {
          conname: 'users_username_format',
          contype: 'c',
          definition: String.raw`CHECK (((username)::text ~ '^\\[^\\]+\\[^\\]+$'::text))`,
        },
      ]);

      const indexes = await query<{ indexname: string; indexdef: string }>(
        handle,
        `select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename = 'users'
          order by indexname`,
      );
      expect(indexes).toEqual([
        {
          indexname: 'idx_users_is_blocked',
          indexdef:
            'CREATE INDEX idx_users_is_blocked ON public.users USING btree (is_blocked) WHERE (is_blocked = true)',
        },
        {
          indexname: 'idx_users_username',
          indexdef: 'CREATE UNIQUE INDEX idx_users_username ON public.users USING btree (username)',
        },
        {
          indexname: 'users_pkey',
          indexdef: 'CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)',
        },
      ]);
      expect(await triggers(handle)).toEqual(['users_set_updated_at']);

      // downgrade -1 from the initial migration removes the users table, as in the story.
      expect((await readState(handle, app.migrationsDir)).current).toBe(initial!.id);
      await downgrade(handle, app.migrationsDir, '-1');
      expect(await usersTableExists(handle)).toBe(false);
      expect(await triggers(handle)).toEqual([]);
      expect((await readState(handle, app.migrationsDir)).current).toBeNull();

      // upgrade recreates it, trigger included.
      await upgrade(handle, app.migrationsDir);
      expect(await usersTableExists(handle)).toBe(true);
      expect(await triggers(handle)).toEqual(['users_set_updated_at']);
    } finally {
      await database.dispose();
    }
  });
});

describe('usernames unique regardless of case (issue 11)', () => {
  const usernameIndexes = async (handle: Handle) =>
    (
      await query<{ indexdef: string }>(
        handle,
        `select indexdef from pg_indexes where tablename = 'users' and indexname like 'idx_users_username%'`,
      )
    ).map((row) => row.indexdef);

  it('replaces the exact unique index with one on lower(username), and back on downgrade', async () => {
    const database = await createTestDatabase(app, { migrate: false });
    const { handle } = database;
    try {
      const [, caseless] = readMigrations(app.migrationsDir);
      await upgrade(handle, app.migrationsDir, caseless!.id);
      expect(await usernameIndexes(handle)).toEqual([
        'CREATE UNIQUE INDEX idx_users_username_lower ON public.users USING btree (lower((username)::text))',
      ]);
      await downgrade(handle, app.migrationsDir, '-1');
      expect(await usernameIndexes(handle)).toEqual([
        'CREATE UNIQUE INDEX idx_users_username ON public.users USING btree (username)',
      ]);
    } finally {
      await database.dispose();
    }
  }, 120_000);

  it('refuses to upgrade over two usernames that differ only in case, changing nothing', async () => {
    const database = await createTestDatabase(app, { migrate: false });
    const { handle } = database;
    try {
      const [initial, caseless] = readMigrations(app.migrationsDir);
      await upgrade(handle, app.migrationsDir, initial!.id);
      await query(
        handle,
        `insert into users (username, password_hash) values ('\\campus\\alice', 'x'), ('\\CAMPUS\\ALICE', 'x')`,
      );
      await expect(upgrade(handle, app.migrationsDir)).rejects.toThrow();
      expect((await readState(handle, app.migrationsDir)).current).toBe(initial!.id);
      expect(await usernameIndexes(handle)).toEqual([
        'CREATE UNIQUE INDEX idx_users_username ON public.users USING btree (username)',
      ]);
      expect(caseless!.name).toMatch(/_usernames_unique_regardless_of_case$/);
    } finally {
      await database.dispose();
    }
  }, 120_000);
});
