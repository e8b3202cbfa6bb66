import { join } from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuthPasswordResetsTable, PasswordRecovery } from './auth/password-recovery.ts';
import type { AuthSessionsTable, SessionStore } from './auth/sessions.ts';
import type { TokenUsers } from './auth/token-users.ts';
import type { Settings, SettingsDefaults } from './config.ts';
import type { Database, DatabaseHandle, ExtensionName } from './database/open.ts';
import type { AppServer } from './http/app-server.ts';
import type { ReadinessReport } from './http/health.ts';
import { guardInput } from './http/input.ts';
import { readYourWritesPerRequest } from './http/read-your-writes.ts';
import type { Migration } from './migrations/folder.ts';

/**
 * A route module: a Fastify plugin the app registers under its prefix
 * (`app.register(usersRoutes, { prefix: '/api/v1/users', users })`), with zod-typed routes inside.
 */
export type RoutesPlugin<TOptions extends Record<string, unknown> = Record<never, never>> =
  FastifyPluginAsyncZod<TOptions>;

/** What a running app's routes get: its database, settings and a readiness probe. */
export interface AppContext<TSchema extends Record<string, unknown> = Record<string, unknown>> {
  db: Database<TSchema>;
  handle: DatabaseHandle<TSchema>;
  settings: Settings;
  migrations: Migration[];
  /** Database ping plus migration state (an unreachable database is a report); `timeoutMs` defaults to 1000. */
  readiness(timeoutMs?: number): Promise<ReadinessReport>;
  /** Password apps: where login opens sessions and the auth hook finds them. */
  sessions?: SessionStore;
  /** Password apps with `auth.resets`: reset tokens and the mailer for passwordLoginRoutes' `recovery`. */
  recovery?: PasswordRecovery;
}

/** The context an app's own `routes` and `verify` get: a `password` app's has its session store. */
export type AppContextFor<
  TSchema extends Record<string, unknown>,
  TAuth extends AppAuth,
> = AppContext<TSchema> & (TAuth extends { kind: 'password' } ? { sessions: SessionStore } : unknown);

/**
 * The credentials an app's users present, besides operators' ADMIN_API_KEYS (see docs/auth.md): tokens from
 * an OpenID Connect issuer (`jwt`), session tokens from the app's own login (`password`), or none.
 */
export type AppAuth =
  | { kind: 'none' }
  | { kind: 'jwt'; users?: TokenUsers }
  | { kind: 'password'; sessions: AuthSessionsTable; resets?: AuthPasswordResetsTable };

export interface AppDefinition<TSchema extends Record<string, unknown> = Record<string, unknown>> {
  /** URL prefix in all-apps mode, data folder name, application_name. Lowercase, digits and dashes. */
  name: string;
  title: string;
  description?: string;
  version?: string;
  /** The API's licence in its OpenAPI document (`{ name: 'MIT', url: '…' }`). */
  license?: { name: string; url?: string };
  /** The app's folder (holds migrations/, .env). */
  dir: string;
  schema: TSchema;
  migrationsDir: string;
  /** PGlite loads these; on a server, migrations create them. */
  extensions: readonly ExtensionName[];
  defaults: SettingsDefaults;
  requireSecretKeys: boolean;
  auth: AppAuth;
  /** Registers the app's routes; called once per server with the app's context. */
  routes(app: AppServer, context: AppContext<TSchema>): Promise<void> | void;
  /** Extra checks at start, after the database opened (e.g. the key ring parses); throw to refuse to start. */
  verify?(context: AppContext<TSchema>): Promise<void> | void;
}

export type AppOptions<TSchema extends Record<string, unknown>, TAuth extends AppAuth = AppAuth> = Omit<
  AppDefinition<TSchema>,
  'migrationsDir' | 'extensions' | 'defaults' | 'requireSecretKeys' | 'auth' | 'routes' | 'verify'
> &
  Partial<Pick<AppDefinition<TSchema>, 'migrationsDir' | 'extensions' | 'defaults' | 'requireSecretKeys'>> & {
    auth?: TAuth;
    routes(app: AppServer, context: AppContextFor<TSchema, TAuth>): Promise<void> | void;
    verify?(context: AppContextFor<TSchema, TAuth>): Promise<void> | void;
  };

export const APP_NAME = /^[a-z][a-z0-9-]{0,40}$/;

export function defineApp<TSchema extends Record<string, unknown>, TAuth extends AppAuth = { kind: 'none' }>(
  options: AppOptions<TSchema, TAuth>,
): AppDefinition<TSchema> {
  if (!APP_NAME.test(options.name)) {
    throw new Error(
      `App name "${options.name}" must match ${APP_NAME} (it becomes a URL prefix and a folder name).`,
    );
  }
  const auth: AppAuth = options.auth ?? { kind: 'none' };
  /** The runtime opens a password app's session store before either hook runs. */
  const forApp = (context: AppContext<TSchema>) => {
    if (auth.kind === 'password' && !context.sessions) {
      throw new Error(`${options.name}: a password app's context has no session store`);
    }
    return context as AppContextFor<TSchema, TAuth>;
  };
  const { verify } = options;
  return {
    migrationsDir: join(options.dir, 'migrations'),
    extensions: [],
    defaults: {},
    requireSecretKeys: false,
    ...options,
    auth,
    // Every app's routes get the hostile-body guard and error fields named as its API spells them, and with
    // replicas, reads after a request's writes on the primary.
    routes: async (app, context) => {
      guardInput(app, options.schema);
      if (context.settings.replicas.urls.length > 0) readYourWritesPerRequest(app);
      await options.routes(app, forApp(context));
    },
    verify: verify && ((context) => verify(forApp(context))),
  };
}
