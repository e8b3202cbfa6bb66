import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings, readEnv, SettingsError } from '../src/config.ts';
import { redactSecrets } from '../src/redact.ts';

const load = (env: Record<string, string>, requireSecretKeys = false) =>
  loadSettings({ appName: 'demo', env, readDotenv: false, requireSecretKeys });

function problemsOf(run: () => unknown): { variable: string; reason: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as SettingsError).problems;
  }
  throw new Error('expected a SettingsError');
}

describe('settings', () => {
  it('defaults to embedded PGlite under .data/<app> and migrates embedded databases on start', () => {
    const settings = load({});
    expect(settings.databaseUrl).toBeUndefined();
    expect(settings.dataDir).toMatch(/\.data\/demo$/);
    expect(settings.migrateOnStart).toBe(true);
    expect(settings.pool).toEqual({
      max: 10,
      connectTimeoutMs: 5000,
      waitTimeoutMs: 5000,
      idleTimeoutMs: 30000,
      maxLifetimeS: 1800,
      statementTimeoutMs: 30000,
    });
  });

  it('parses every variable into typed values; servers do not migrate on start unless asked', () => {
    const settings = load({
      DATABASE_URL: 'postgres://u:p@db:5432/app?sslmode=require',
      DB_POOL_MAX: '30',
      DB_LOG_SQL: 'true',
      PORT: '8080',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
    });
    expect(settings).toMatchObject({
      port: 8080,
      logSql: true,
      nodeEnv: 'production',
      migrateOnStart: false,
    });
    expect(settings.pool.max).toBe(30);
    expect(load({ DATABASE_URL: 'postgres://h/db', MIGRATE_ON_START: 'true' }).migrateOnStart).toBe(true);
  });

  it('reports every invalid variable at once, with its name and reason', () => {
    const problems = problemsOf(() =>
      load({
        DB_POOL_MAX: '0',
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://x',
        DB_LOG_SQL: 'maybe',
      }),
    );
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'DATABASE_URL',
      'DB_LOG_SQL',
      'DB_POOL_MAX',
      'LOG_LEVEL',
      'PORT',
    ]);
    expect(problems.find((p) => p.variable === 'DB_LOG_SQL')?.reason).toBe('must be true or false');
  });

  it('refuses placeholder secrets outside development, and never prints the password', () => {
    const problems = problemsOf(() =>
      load(
        { NODE_ENV: 'production', SECRET_KEYS: 'changeme', DATABASE_URL: 'postgres://app:changethis@db/app' },
        true,
      ),
    );
    expect(problems.map((p) => p.variable).sort()).toEqual(['DATABASE_URL', 'SECRET_KEYS']);
    const message = new SettingsError(problems).message;
    expect(message).not.toContain('changethis');
    expect(() => load({ NODE_ENV: 'development', SECRET_KEYS: 'changeme' }, true)).not.toThrow();
  });

  it('reads the app folder .env first, then the working directory, and the environment wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-env-'));
    writeFileSync(join(dir, '.env'), 'PORT=4000\nHOST=0.0.0.0\n');
    const env = readEnv(dir, { PORT: '5000' });
    expect(env.PORT).toBe('5000');
    expect(env.HOST).toBe('0.0.0.0');
  });
});

describe('redaction', () => {
  it('removes passwords from URLs, password parameters and sealed values', () => {
    expect(redactSecrets('connect postgres://app:s3cret@db:5432/x failed')).toBe(
      'connect postgres://app:***@db:5432/x failed',
    );
    expect(redactSecrets('host=db?password=hunter2&x=1')).toBe('host=db?password=***&x=1');
    expect(redactSecrets('token v1.k1.aGVsbG8.d29ybGQ end')).toBe('token v1.*** end');
  });
});
