import { createHash, randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import type { AppDefinition } from '../app.ts';
import { createCountersTable } from '../auth/rate-limits.ts';
import type { RawEnv, Settings } from '../config.ts';
import { dropDatabase, ensureDatabase, withAdminConnection } from '../database/admin.ts';
import { type DatabaseHandle, openDatabase } from '../database/open.ts';
import { withSession } from '../database/sessions.ts';
import { withDatabase } from '../database/urls.ts';
import { METADATA_TABLE, MIGRATIONS_TABLE } from '../migrations/bookkeeping.ts';
import { upgrade } from '../migrations/runner.ts';
import { pgliteFromImage, schemaKey } from './pglite-images.ts';
import { testSettings } from './settings.ts';

/** The backend every test in this run uses: a real server when TEST_DATABASE_URL is set, PGlite otherwise. */
export const testBackend: 'postgres' | 'pglite' = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';

export interface TestDatabase<TSchema extends Record<string, unknown>> {
  handle: DatabaseHandle<TSchema>;
  settings: Settings;
  /**
   * Puts the database back as it was created, for the next test. False when it cannot (a test changed the
   * schema or the migrations' bookkeeping, or migrations seeded rows): take a new database then.
   */
  reset(): Promise<boolean>;
  /** Closes the database (PGlite) or drops it (server). */
  dispose(): Promise<void>;
}

export interface TestOptions {
  /** Extra environment for the app's settings (never read from .env in tests). */
  env?: RawEnv;
  /** Leave the database at base instead of head (migration tests). */
  migrate?: boolean;
  /** Receives the SQL text of every query (e.g. to count the statements a request runs). */
  logQuery?: (sql: string) => void;
}

const logEnv = (options: TestOptions): RawEnv =>
  options.logQuery ? { ...options.env, DB_LOG_SQL: 'true' } : (options.env ?? {});

const TEMPLATE_LOCK = 7_101_971_523_114_011n;

/**
 * What a template holds beyond the app's migrations (the rate-limit counters' table): bumped when
 * ensureTemplate adds or changes anything, so a server never reuses a template built by an older harness.
 */
const TEMPLATE_EXTRAS = 2;

/** Template name keyed by the app and everything that shapes its migrated schema. */
function templateName(app: AppDefinition): string {
  const key = createHash('sha256')
    .update(`${schemaKey(app)}:${TEMPLATE_EXTRAS}`)
    .digest('hex')
    .slice(0, 12);
  return `gwt_${app.name.replace(/-/g, '_')}_${key}`;
}

/** Templates of this app's earlier migrations are the harness's own and obsolete: drop them so they do not pile up. */
async function dropStaleTemplates(sql: postgres.Sql, template: string): Promise<void> {
  const prefix = template.slice(0, template.lastIndexOf('_') + 1);
  const stale = await sql<{ datname: string }[]>`
    select datname from pg_database
     where datistemplate and datname <> ${template} and starts_with(datname, ${prefix})
       and length(datname) = ${template.length}`;
  for (const { datname } of stale) {
    await sql.unsafe(`alter database "${datname}" is_template false`);
    await sql.unsafe(`drop database if exists "${datname}" with (force)`);
  }
}

/** Migrates the app's template database once per migrations checksum, across parallel workers. */
async function ensureTemplate(app: AppDefinition, adminUrl: string): Promise<string> {
  const template = templateName(app);
  await withAdminConnection(adminUrl, async (sql) => {
    await sql`select pg_advisory_lock(${TEMPLATE_LOCK.toString()}::bigint)`;
    try {
      await dropStaleTemplates(sql, template);
      const [ready] = await sql`select 1 from pg_database where datname = ${template} and datistemplate`;
      if (ready) return;
      // A template without the flag is a leftover of an interrupted run: rebuild it.
      await sql.unsafe(`drop database if exists "${template}" with (force)`);
      await sql.unsafe(`create database "${template}"`);
      const settings = testSettings(app, {}, withDatabase(adminUrl, template));
      const handle = await openDatabase(settings, { schema: app.schema });
      try {
        await upgrade(handle, app.migrationsDir);
        // Made at first use in an app; made here, tests' logins create no table, so the per-test reset (which
        // takes a new database after DDL) stays a truncation, and it empties the counters between tests.
        await createCountersTable(handle.db);
      } catch (error) {
        await handle.close();
        await sql.unsafe(`drop database if exists "${template}" with (force)`);
        throw error;
      }
      await handle.close();
      await sql.unsafe(`alter database "${template}" is_template true`);
    } finally {
      await sql`select pg_advisory_unlock(${TEMPLATE_LOCK.toString()}::bigint)`;
    }
  });
  return template;
}

/** A fresh database on the test server, created from the migrated template (or empty). */
export async function createServerTestDatabase<TSchema extends Record<string, unknown>>(
  app: AppDefinition<TSchema>,
  options: TestOptions = {},
): Promise<TestDatabase<TSchema>> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  // TEST_DATABASE_URL may be a pooler (?pgbouncer=true) when TEST_DIRECT_DATABASE_URL reaches the server itself:
  // apps then connect through the pooler and databases, templates and migrations go direct.
  const direct = process.env.TEST_DIRECT_DATABASE_URL;
  const adminUrl = direct || serverUrl;
  const template = options.migrate === false ? undefined : await ensureTemplate(app, adminUrl);
  const name = `gwt_${app.name.replace(/-/g, '_')}_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(adminUrl, name, template);
  // A test database need not survive a crash: its commits (and resets) do not wait for the disk.
  await withAdminConnection(adminUrl, (sql) =>
    sql.unsafe(`alter database "${name}" set synchronous_commit = off`),
  );
  const env = direct
    ? { ...logEnv(options), DIRECT_DATABASE_URL: withDatabase(direct, name) }
    : logEnv(options);
  const settings = testSettings(app, env, withDatabase(serverUrl, name));
  const handle = await openDatabase(settings, {
    schema: app.schema,
    extensions: app.extensions,
    log: options.logQuery,
  });
  let reset: () => Promise<boolean>;
  try {
    reset = await migratedStateReset(handle);
  } catch (error) {
    await handle.close();
    await dropDatabase(adminUrl, name);
    throw error;
  }
  return {
    handle,
    settings,
    reset,
    dispose: async () => {
      await handle.close();
      await dropDatabase(adminUrl, name);
    },
  };
}

/**
 * Catalogs DDL writes to, with the column holding the object's oid: user objects have oids from 16384
 * (FirstNormalObjectId) up, so an index scan reads only those rows. A row added, changed (a newer xmin)
 * or removed (a count that differs) since the last reset means a test changed the schema.
 */
const CATALOGS = [
  ['pg_class', 'oid'],
  ['pg_attribute', 'attrelid'],
  ['pg_attrdef', 'oid'],
  ['pg_constraint', 'oid'],
  ['pg_index', 'indexrelid'],
  ['pg_trigger', 'oid'],
  ['pg_proc', 'oid'],
  ['pg_type', 'oid'],
  ['pg_enum', 'oid'],
  ['pg_namespace', 'oid'],
  ['pg_rewrite', 'oid'],
  ['pg_sequence', 'seqrelid'],
  ['pg_policy', 'oid'],
  ['pg_extension', 'oid'],
  ['pg_description', 'objoid'],
] as const;
const userRows = ([catalog, key]: (typeof CATALOGS)[number]) => `pg_catalog.${catalog} where ${key} >= 16384`;

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
/** Rows written after transaction $1 (a 32-bit id): younger than it. */
const NEWER = (rows: string) => `exists (select 1 from ${rows} and age(xmin) < age($1::text::xid))`;

/**
 * The per-test reset, far cheaper than a new database (docs/testing.md, isolation cost): empty the
 * tables that hold rows and restore every sequence, in three statements. It first checks, from the
 * transaction ids of catalog rows, that no DDL ran since the last reset (and that the migrations'
 * bookkeeping is untouched); if something did, or if the migrations seeded rows that truncation would
 * lose, it answers false and the caller takes a new database. Recorded when the database is made.
 */
async function migratedStateReset(handle: DatabaseHandle): Promise<() => Promise<boolean>> {
  return withSession(handle, async (session) => {
    const [found] = await session.query<{
      xid: string;
      tables: string[];
      bookkeeping: string[];
      sequences: { name: string; value: string; called: boolean }[];
    }>(
      `select txid_current() % 4294967296 as xid,
              array(select format('%I.%I', schemaname, tablename) from pg_tables
                     where schemaname not in ('pg_catalog', 'information_schema')
                       and tablename not in ($1, $2) order by 1) as tables,
              array(select format('%I.%I', schemaname, tablename) from pg_tables
                     where schemaname not in ('pg_catalog', 'information_schema')
                       and tablename in ($1, $2) order by 1) as bookkeeping,
              coalesce((select json_agg(json_build_object('name', format('%I.%I', schemaname, sequencename),
                                  'value', coalesce(last_value, start_value)::text, 'called', last_value is not null))
                          from pg_sequences where schemaname not in ('pg_catalog', 'information_schema')), '[]') as sequences`,
      [MIGRATIONS_TABLE, METADATA_TABLE],
    );
    const { tables, bookkeeping, sequences } = found!;
    // The migrations' own tables keep their rows: a test that changes them gets a new database instead.
    const watched = [...CATALOGS.map(userRows), ...bookkeeping.map((table) => `${table} where true`)];
    const [counts] = await session.query<Record<string, string>>(
      `select ${watched.map((rows, i) => `(select count(*) from ${rows})::text as c${i}`).join(', ')}`,
    );
    const changed = watched
      .map((rows, i) => `(select count(*) from ${rows}) <> ${counts![`c${i}`]} or ${NEWER(rows)}`)
      .join('\n or ');
    const holding = tables.length
      ? `array_remove(array[${tables.map((t) => `case when exists (select 1 from ${t}) then ${literal(t)} end`).join(', ')}]::text[], null)`
      : 'array[]::text[]';
    const check = `select (${changed}) as changed, ${holding} as dirty`;
    const restore = `select txid_current() % 4294967296 as xid${sequences
      .map((s) => `, setval(${literal(s.name)}, ${s.value}, ${s.called})`)
      .join('')}`;
    let xid = found!.xid;
    const [seeded] = await session.query<{ dirty: string[] }>(check, [xid]);
    const resettable = seeded!.dirty.length === 0;
    return () =>
      withSession(handle, async (use) => {
        if (!resettable) return false;
        const [state] = await use.query<{ changed: boolean; dirty: string[] }>(check, [xid]);
        if (state!.changed) return false;
        if (state!.dirty.length) await use.query(`truncate ${state!.dirty.join(', ')} cascade`);
        const [restored] = await use.query<{ xid: string }>(restore);
        xid = restored!.xid;
        return true;
      });
  });
}

/**
 * Fresh server databases, one ahead: CREATE DATABASE from a template is a WAL-logged copy with fsync, slow
 * next to a test, so the next test's database is created while the current test runs and a test waits only
 * for the part its predecessor did not hide. Not more ahead: concurrent copies of one template contend, and
 * each test waited longer (docs/performance.md, test isolation).
 */
export function serverDatabasePipeline<TSchema extends Record<string, unknown>>(
  app: AppDefinition<TSchema>,
  options: TestOptions = {},
): { take(): Promise<TestDatabase<TSchema>>; close(): Promise<void> } {
  let next: Promise<TestDatabase<TSchema>> | undefined;
  const prepare = () => {
    const created = createServerTestDatabase(app, options);
    created.catch(() => {}); // surfaced by take(); never an unhandled rejection
    return created;
  };
  return {
    async take() {
      const database = next ?? prepare();
      next = prepare();
      return database;
    },
    async close() {
      const spare = await next?.catch(() => undefined);
      next = undefined;
      await spare?.dispose();
    },
  };
}

/**
 * A fresh in-memory PGlite with the app's extensions loaded, migrated unless told otherwise: loaded from an
 * image of that database (see pglite-images.ts) rather than by initdb and the migrations each time.
 */
export async function createPgliteTestDatabase<TSchema extends Record<string, unknown>>(
  app: AppDefinition<TSchema>,
  options: TestOptions = {},
): Promise<TestDatabase<TSchema>> {
  const pglite = await pgliteFromImage(app, options.migrate !== false);
  const settings = testSettings(app, logEnv(options));
  const handle = await openDatabase(settings, { schema: app.schema, pglite, log: options.logQuery });
  return { handle, settings, reset: await migratedStateReset(handle), dispose: () => pglite.close() };
}

export function createTestDatabase<TSchema extends Record<string, unknown>>(
  app: AppDefinition<TSchema>,
  options: TestOptions = {},
): Promise<TestDatabase<TSchema>> {
  return testBackend === 'postgres'
    ? createServerTestDatabase(app, options)
    : createPgliteTestDatabase(app, options);
}

/** Empties every table but the migrations bookkeeping, restarting identities: PGlite's per-test reset. */
export async function truncateAll(handle: DatabaseHandle): Promise<void> {
  return withSession(handle, async (session) => {
    const tables = await session.query<{ name: string }>(
      `select format('%I.%I', schemaname, tablename) as name from pg_tables
        where schemaname not in ('pg_catalog', 'information_schema') and tablename <> $1`,
      [MIGRATIONS_TABLE],
    );
    if (tables.length)
      await session.query(`truncate ${tables.map((t) => t.name).join(', ')} restart identity cascade`);
  });
}
