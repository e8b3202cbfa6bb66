import type { AppDefinition } from '../app.ts';
import type { RawEnv } from '../config.ts';
import type { AppServer } from '../http/app-server.ts';
import { type RunningApp, startApp } from '../runtime.ts';
import { buildServer } from '../server.ts';
import { testSettings } from './settings.ts';

/**
 * The app served at `/` against the database at `databaseUrl` (test settings plus `env`), not migrated: for
 * what it answers when that database is unreachable, or one the test made. The caller closes `server`.
 */
export async function serveOnDatabase<TSchema extends Record<string, unknown>>(
  definition: AppDefinition<TSchema>,
  databaseUrl: string,
  env: RawEnv = {},
): Promise<{ server: AppServer; running: RunningApp<TSchema> }> {
  const running = await startApp(definition, {
    settings: testSettings(definition, env, databaseUrl),
    migrate: false,
  });
  const server = await buildServer([running], { logLevel: 'silent', mount: 'root' });
  return { server, running };
}
