import { createHash, randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type postgres from 'postgres';
import type { AppDefinition } from '../app.ts';
import { loadSettings, type RawEnv, type Settings } from '../config.ts';
import { dropDatabase, ensureDatabase, withAdminConnection } from '../database/admin.ts';
import { type DatabaseHandle, openDatabase } from '../database/open.ts';
import { pgliteExtensions } from '../database/pglite.ts';
import { withSession } from '../database/sessions.ts';
import { withDatabase } from '../database/urls.ts';
import { readMigrations } from '../migrations/folder.ts';
import { MIGRATIONS_TABLE, upgrade } from '../migrations/runner.ts';

/** The backend every test in this run uses: a real server when TEST_DATABASE_URL is set, PGlite otherwise. */
export const testBackend: 'postgres' | 'pglite' = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';

export interface TestDatabase<TSchema extends Record<string, unknown>> {
  handle: DatabaseHandle<TSchema>;
  settings: Settings;
  /** Empties every app table (PGlite) or drops the database (server). */
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

/** Settings for a test: defaults plus `env`; no .env file is read, so a development database is never used. */
export function testSettings(app: AppDefinition, env: RawEnv = {}, databaseUrl?: string): Settings {
  return loadSettings({
    appName: app.name,
    readDotenv: false,
    env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env, DATABASE_URL: databaseUrl ?? '' },
    defaults: app.defaults,
    requireSecretKeys: app.requireSecretKeys,
  });
}

const logEnv = (options: TestOptions): RawEnv =>
  options.logQuery ? { ...options.env, DB_LOG_SQL: 'true' } : (options.env ?? {});

const TEMPLATE_LOCK = 7_101_971_523_114_011n;

/** Template name keyed by the app and everything that shapes its migrated schema. */
function templateName(app: AppDefinition): string {
  const hash = createHash('sha256');
  for (const m of readMigrations(app.migrationsDir)) hash.update(`${m.name}:${m.checksum}\n`);
  hash.update(app.extensions.join(','));
  return `gwt_${app.name.replace(/-/g, '_')}_${hash.digest('hex').slice(0, 12)}`;
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
  const env = direct
    ? { ...logEnv(options), DIRECT_DATABASE_URL: withDatabase(direct, name) }
    : logEnv(options);
  const settings = testSettings(app, env, withDatabase(serverUrl, name));
  const handle = await openDatabase(settings, {
    schema: app.schema,
    extensions: app.extensions,
    log: options.logQuery,
  });
  return {
    handle,
    settings,
    dispose: async () => {
      await handle.close();
      await dropDatabase(adminUrl, name);
    },
  };
}

/**
 * Fresh server databases, one ahead: CREATE DATABASE from a template costs ~125 ms on this machine's disk
 * (a WAL-logged copy with fsync), so the next test's database is created while the current test runs and a
 * test waits only for the part its predecessor did not hide. Creating more ahead was measured slower:
 * concurrent copies of one template contend (median wait 83 ms one ahead, 152 ms two, 845 ms four).
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

/** A fresh in-memory PGlite with the app's extensions loaded, migrated unless told otherwise. */
export async function createPgliteTestDatabase<TSchema extends Record<string, unknown>>(
  app: AppDefinition<TSchema>,
  options: TestOptions = {},
): Promise<TestDatabase<TSchema>> {
  const pglite = await PGlite.create({ extensions: await pgliteExtensions(app.extensions) });
  const settings = testSettings(app, logEnv(options));
  const handle = await openDatabase(settings, { schema: app.schema, pglite, log: options.logQuery });
  if (options.migrate !== false) await upgrade(handle, app.migrationsDir);
  return { handle, settings, dispose: () => pglite.close() };
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
