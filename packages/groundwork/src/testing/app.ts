import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { AppDefinition } from '../app.ts';
import { createDevIssuer, type DevIssuer } from '../auth/dev-issuer.ts';
import type { Access } from '../auth/plugin.ts';
import type { DatabaseHandle } from '../database/open.ts';
import type { AppServer } from '../http/app-server.ts';
import { type RunningApp, startApp } from '../runtime.ts';
import { buildServer } from '../server.ts';
import { createTestDatabase, type TestDatabase, type TestOptions } from './databases.ts';

export interface TestApp<TSchema extends Record<string, unknown>> {
  /** Inject requests here (`server.inject`): the app is mounted at `/`. */
  readonly server: AppServer;
  readonly app: RunningApp<TSchema>;
  readonly db: RunningApp<TSchema>['handle']['db'];
  readonly handle: DatabaseHandle<TSchema>;
  /**
   * With `credentials: true`: an operator key's headers. Without it the app serves openly (every request
   * acts as an operator), as in development.
   */
  readonly adminHeaders: { authorization: string };
  /**
   * With `credentials: true`: headers acting as one user. A password app opens a login session for the user
   * id `who`; a `jwt` app gets a token from an in-memory issuer whose claim (`sub`, or a verified `email`)
   * is `who`, the value its users are matched by.
   */
  userHeaders(who: string): Promise<{ authorization: string }>;
  /**
   * `METHOD /url` of every route the app registered (not the foundation's docs and probes; no HEAD copies):
   * a test that lists routes by hand compares against it, so a new route without a case fails.
   */
  readonly routes: readonly string[];
  /** Each of `routes` with the `auth` its config declares (`undefined` when it declares none). */
  readonly access: ReadonlyMap<string, Access | undefined>;
}

export interface TestAppOptions extends TestOptions {
  /** Enforce authentication as in production: an operator key and, for `jwt` apps, a test issuer. */
  credentials?: boolean;
}

/**
 * Registers vitest hooks giving each test an isolated, migrated database and the app wired to it: one
 * database per file (server: a copy of the migrated template; PGlite: a migrated instance), put back to its
 * migrated state after each test, even when it fails.
 */
export function setupTestApp<TSchema extends Record<string, unknown>>(
  definition: AppDefinition<TSchema>,
  options: TestAppOptions = {},
): TestApp<TSchema> {
  let current: { server: AppServer; app: RunningApp<TSchema>; database: TestDatabase<TSchema> } | undefined;
  const adminKey = randomBytes(32).toString('base64url');
  let issuer: Promise<DevIssuer> | undefined;
  const devIssuer = () => (issuer ??= createDevIssuer(definition.name));
  const routes: string[] = [];
  const access = new Map<string, Access | undefined>();
  const collecting: AppDefinition<TSchema> = {
    ...definition,
    routes: async (server, context) => {
      routes.length = 0;
      access.clear();
      server.addHook('onRoute', (route) => {
        for (const method of [route.method].flat()) {
          if (method === 'HEAD') continue;
          routes.push(`${method} ${route.url}`);
          access.set(`${method} ${route.url}`, route.config?.auth);
        }
      });
      await definition.routes(server, context);
    },
  };
  const start = async (database: TestDatabase<TSchema>) => {
    const { settings } = database;
    const app = await startApp(collecting, {
      settings: options.credentials
        ? { ...settings, auth: { ...settings.auth, adminApiKeys: adminKey } }
        : settings,
      handle: database.handle,
      migrate: false,
      devIssuer: definition.auth.kind === 'jwt' ? await devIssuer() : undefined,
    });
    const server = await buildServer([app], { logLevel: 'silent', mount: 'root' });
    await server.ready();
    return { server, app, database };
  };
  // One database and app per file on both backends; after each test the database is reset to its migrated
  // state (a few ms), or replaced when the reset cannot promise that (a test changed the schema).
  let shared: Awaited<ReturnType<typeof start>> | undefined;
  const fresh = async () => start(await createTestDatabase(definition, options));
  beforeAll(async () => {
    shared = await fresh();
  });
  beforeEach(() => {
    current = shared;
  });
  afterEach(async () => {
    current = undefined;
    if (!shared || (await shared.database.reset())) return;
    const stale = shared;
    shared = undefined;
    await stale.server.close();
    await stale.database.dispose();
    shared = await fresh();
  });
  afterAll(async () => {
    await shared?.server.close();
    await shared?.database.dispose();
  });
  const active = () => {
    if (!current) throw new Error('setupTestApp: use the app inside a test (it is created in beforeEach)');
    return current;
  };
  return {
    get server() {
      return active().server;
    },
    get app() {
      return active().app;
    },
    get db() {
      return active().app.handle.db;
    },
    get handle() {
      return active().app.handle;
    },
    routes,
    access,
    adminHeaders: { authorization: `Bearer ${adminKey}` },
    async userHeaders(who) {
      const { auth } = definition;
      if (auth.kind === 'password') {
        const { token } = await active().app.context.sessions!.open(who);
        return { authorization: `Bearer ${token}` };
      }
      if (auth.kind !== 'jwt')
        throw new Error(`${definition.name} has no user credentials (auth kind "none")`);
      const byEmail = auth.users?.claim === 'email';
      const token = await (await devIssuer()).sign(byEmail ? `test|${who}` : who, {
        claims: byEmail ? { email: who, email_verified: true } : {},
      });
      return { authorization: `Bearer ${token}` };
    },
  };
}
