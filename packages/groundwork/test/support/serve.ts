import type { AppDefinition } from '../../src/app.ts';
import type { Settings } from '../../src/config.ts';
import type { AppServer } from '../../src/http/app-server.ts';
import { startApp } from '../../src/runtime.ts';
import { buildServer } from '../../src/server.ts';
import {
  createTestDatabase,
  type TestDatabase,
  type TestOptions,
  testSettings,
} from '../../src/testing/index.ts';

export interface Served {
  server: AppServer;
  database?: TestDatabase<any>;
  close(): Promise<void>;
}

/** The app on a fresh test database with the given settings environment (pool sizes, timeouts). */
export async function serveOnTestDatabase(
  app: AppDefinition<any>,
  options: TestOptions = {},
): Promise<Served> {
  const database = await createTestDatabase(app, options);
  const running = await startApp(app, {
    settings: database.settings,
    handle: database.handle,
    migrate: false,
  });
  const server = await buildServer([running], { logLevel: 'silent', mount: 'root' });
  return {
    server,
    database,
    close: async () => {
      await server.close();
      await database.dispose();
    },
  };
}

/** The app pointed at a server URL of our choosing (e.g. a closed port); nothing is migrated. */
export async function serveOnUrl(
  app: AppDefinition<any>,
  url: string,
  env: Record<string, string> = {},
): Promise<Served> {
  const settings: Settings = testSettings(app, env, url);
  const running = await startApp(app, { settings, migrate: false });
  const server = await buildServer([running], { logLevel: 'silent', mount: 'root' });
  return { server, close: () => server.close() };
}
