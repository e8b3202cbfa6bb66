import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createMailer, type Mailer } from './adapters/mail.ts';
import type { AppContext, AppDefinition } from './app.ts';
import { tokenGuard } from './auth/caller-guards.ts';
import { type DevIssuer, devIssuerVerifier } from './auth/dev-issuer.ts';
import { createJwtVerifier } from './auth/jwt.ts';
import { parseOperatorKeys } from './auth/operator-keys.ts';
import { createResetStore } from './auth/password-recovery.ts';
import type { AuthOptions } from './auth/plugin.ts';
import { databaseCounters } from './auth/rate-limits.ts';
import { createSessionStore, type SessionStore } from './auth/sessions.ts';
import { tokenUserLookup } from './auth/token-users.ts';
import {
  loadSettings,
  type RawEnv,
  type Settings,
  SettingsError,
  servesOpenly,
  startProblems,
} from './config.ts';
import { ensureDatabase } from './database/admin.ts';
import { type DatabaseHandle, openDatabase } from './database/open.ts';
import { databaseNameOf, withDatabase } from './database/urls.ts';
import { checkReadiness } from './http/health.ts';
import { readMigrations } from './migrations/folder.ts';
import { MigrationError, upgrade } from './migrations/runner.ts';
import { countMigrations } from './observability/metrics.ts';
import { startTracing } from './observability/tracing.ts';
import { runSeed, seedFile } from './seed/seed.ts';
import { findRoot } from './workspace.ts';

export interface RunningApp<TSchema extends Record<string, unknown> = Record<string, unknown>> {
  definition: AppDefinition<TSchema>;
  settings: Settings;
  handle: DatabaseHandle<TSchema>;
  context: AppContext<TSchema>;
  /** What the auth hook accepts on this app's routes. */
  auth: AuthOptions;
}

export interface StartAppOptions<TSchema extends Record<string, unknown> = Record<string, unknown>> {
  env?: RawEnv;
  /** All-apps mode: a server URL names a base database and each app gets `<db>_<app>` (created if missing). */
  sharedServer?: boolean;
  /** Overrides MIGRATE_ON_START. */
  migrate?: boolean;
  log?: (line: string) => void;
  /** Settings already made (tests); skips reading the environment. */
  settings?: Settings;
  /** An open handle to use instead of opening one (tests). */
  handle?: DatabaseHandle<TSchema>;
  /** Run the app's `verify` hook (default true); off when only its routes are wanted, as for its OpenAPI document. */
  verify?: boolean;
  /** A `jwt` app's development issuer (tests pass one kept in memory); by default read from the data directory. */
  devIssuer?: DevIssuer;
}

/** The app's settings; in shared mode also the URL of the base database used to create the app's own. */
export function appSettings(
  definition: AppDefinition,
  options: Pick<StartAppOptions, 'env' | 'sharedServer'> = {},
): { settings: Settings; baseUrl?: string } {
  const settings = loadSettings({
    appName: definition.name,
    appDir: definition.dir,
    env: options.env,
    defaults: definition.defaults,
    requireSecretKeys: definition.requireSecretKeys,
    dataRoot: findRoot(definition.dir),
  });
  if (options.sharedServer && settings.databaseUrl) {
    const database = `${databaseNameOf(settings.databaseUrl)}_${definition.name.replace(/-/g, '_')}`;
    const { directUrl, replicas } = settings;
    return {
      settings: {
        ...settings,
        databaseUrl: withDatabase(settings.databaseUrl, database),
        directUrl: directUrl && withDatabase(directUrl, database),
        replicas: { ...replicas, urls: replicas.urls.map((url) => withDatabase(url, database)) },
      },
      // Databases are created over the direct connection when there is one: it is the one for administration.
      baseUrl: directUrl ?? settings.databaseUrl,
    };
  }
  return { settings };
}

/** Opens an app's database (creating its per-app database in shared mode) and migrates when asked. */
export async function startApp<TSchema extends Record<string, unknown>>(
  definition: AppDefinition<TSchema>,
  options: StartAppOptions<TSchema> = {},
): Promise<RunningApp<TSchema>> {
  const { settings, baseUrl } = options.settings
    ? { settings: options.settings, baseUrl: undefined }
    : appSettings(definition, options);
  const problems = startProblems(settings, definition.auth.kind);
  if (problems.length) throw new SettingsError(problems);
  if (baseUrl && settings.databaseUrl && !options.handle) {
    if (await ensureDatabase(baseUrl, databaseNameOf(settings.databaseUrl))) {
      options.log?.(`created database ${databaseNameOf(settings.databaseUrl)} for ${definition.name}`);
    }
  }
  // Before the database opens, so its pools trace their statements.
  if (settings.otlpEndpoint) await startTracing(settings.otlpEndpoint, definition.name);
  const handle: DatabaseHandle<TSchema> =
    options.handle ??
    (await openDatabase(settings, {
      schema: definition.schema,
      extensions: definition.extensions,
      log: options.log,
    }));
  try {
    if (options.migrate ?? settings.migrateOnStart) {
      const run = await upgrade(handle, definition.migrationsDir, 'head', {
        ...settings.migrations,
        log: (line) => options.log?.(`${definition.name}: ${line}`),
      });
      countMigrations(definition.name, run);
      // a newcomer's first start (development): the embedded database this opened was just made, so it gets
      // the sample rows; tests start from empty tables, and production seeds only by `db seed --force`
      const fresh = !options.handle && !settings.databaseUrl && run.from === null && run.steps.length > 0;
      if (fresh && settings.nodeEnv === 'development' && existsSync(seedFile(definition.dir))) {
        await runSeed(handle, definition.dir, { environment: settings.nodeEnv });
        options.log?.(`${definition.name}: seeded the new database from src/seed.ts`);
      }
    }
    const migrations = readMigrations(definition.migrationsDir);
    const context: AppContext<TSchema> = {
      db: handle.db,
      handle,
      settings,
      migrations,
      readiness: (timeoutMs) => checkReadiness(handle, migrations, timeoutMs),
      // Sessions are read on the primary: one opened a moment ago may not be on a replica yet.
      sessions:
        definition.auth.kind === 'password'
          ? createSessionStore(handle.primary, definition.auth.sessions, {
              ttlS: settings.auth.sessionTtlS,
              idleS: settings.auth.sessionIdleS,
            })
          : undefined,
      recovery:
        definition.auth.kind === 'password' && definition.auth.resets
          ? {
              resets: createResetStore(handle.primary, definition.auth.resets, settings.auth.resetTtlS),
              mailer: mailerFor(settings),
              appTitle: definition.title,
            }
          : undefined,
    };
    if (options.verify !== false) await definition.verify?.(context);
    const auth = authOptions(definition, settings, handle, context.sessions, options.devIssuer);
    return { definition, settings, handle, context, auth };
  } catch (error) {
    if (!options.handle) await handle.close();
    throw error;
  }
}

/**
 * SMTP when MAIL_URL is set; outside production otherwise the app's data directory (`<dataDir>/mail/*.eml`),
 * where a developer reads a reset message; in production without MAIL_URL, none (recovery answers 503).
 */
function mailerFor(settings: Settings): Mailer | undefined {
  const { url, from } = settings.auth.mail;
  if (url) return createMailer({ smtpUrl: url }, from);
  return settings.nodeEnv === 'production'
    ? undefined
    : createMailer({ dir: join(settings.dataDir, 'mail') }, from);
}

/**
 * Every app of the all-apps server, started at once: embedded databases created together share one initdb
 * (database/pglite-cluster.ts). One app's failed migration does not take the others down: that app starts
 * unmigrated, so its readiness answers 503 "pending migrations", and `onMigrationFailed` says why. Any other
 * failure closes the apps already started and is thrown.
 */
export async function startApps(
  definitions: AppDefinition[],
  options: StartAppOptions & { onMigrationFailed: (name: string, error: MigrationError) => void },
): Promise<RunningApp[]> {
  const start = async (definition: AppDefinition): Promise<RunningApp> => {
    try {
      return await startApp(definition, options);
    } catch (error) {
      if (!(error instanceof MigrationError)) throw error;
      options.onMigrationFailed(definition.name, error);
      return startApp(definition, { ...options, migrate: false });
    }
  };
  const started = await Promise.allSettled(definitions.map(start));
  const apps = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(apps.map((app) => app.handle.close()));
    throw failed.reason;
  }
  return apps;
}

/**
 * Operator keys always; then the app's own credentials: its issuer's tokens (outside production without
 * AUTH_ISSUER, the development issuer's, see `groundwork auth token`) or its login sessions.
 */
function authOptions(
  definition: AppDefinition,
  settings: Settings,
  handle: DatabaseHandle,
  sessions: SessionStore | undefined,
  devIssuer: DevIssuer | undefined,
): AuthOptions {
  const { auth } = definition;
  const options: AuthOptions = {
    operatorKeys: parseOperatorKeys(settings.auth.adminApiKeys),
    sessions,
    open: servesOpenly(settings, auth.kind),
    // On a server every worker and instance shares the counts; PGlite is one process, so memory is enough.
    counters: handle.engine === 'postgres' ? databaseCounters(handle.primary) : undefined,
  };
  if (auth.kind !== 'jwt') return options;
  if (settings.auth.jwt) options.jwt = createJwtVerifier(settings.auth.jwt);
  else if (settings.nodeEnv !== 'production') {
    options.jwt = devIssuer?.verifier() ?? devIssuerVerifier(definition.name, settings.dataDir);
  }
  // On the primary: a user registered a moment ago may not be on a replica yet.
  if (auth.users) {
    options.userIdOfClaims = tokenUserLookup(handle.primary, auth.users);
    options.tokenGuard = tokenGuard(auth.users);
  }
  return options;
}
