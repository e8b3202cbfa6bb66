import type { AppDefinition } from '../app.ts';
import { loadSettings, type RawEnv, type Settings } from '../config.ts';

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
