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

  it("puts each app under DATA_ROOT when set; DATA_DIR names one app's folder and wins", () => {
    expect(load({ DATA_ROOT: '/tmp/gw-data' }).dataDir).toBe('/tmp/gw-data/demo');
    expect(load({ DATA_ROOT: '/tmp/gw-data', DATA_DIR: '/tmp/one' }).dataDir).toBe('/tmp/one');
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

describe('poolers, direct URLs and replicas', () => {
  it('reads DIRECT_DATABASE_URL, DB_PREPARE and the replica URLs with their allowed lag and bounds', () => {
    const settings = load({
      DATABASE_URL: 'postgres://app:pw@pooler:6543/app?pgbouncer=true',
      DIRECT_DATABASE_URL: 'postgres://app:pw@db:5432/app',
      DATABASE_REPLICA_URLS: ' postgres://app:pw@r1/app , postgres://app:pw@r2/app',
      DB_REPLICA_MAX_LAG_MS: '250',
      DB_REPLICA_CONNECT_TIMEOUT_MS: '500',
      DB_REPLICA_WAIT_TIMEOUT_MS: '50',
    });
    expect(settings).toMatchObject({
      directUrl: 'postgres://app:pw@db:5432/app',
      prepare: true,
      replicas: {
        urls: ['postgres://app:pw@r1/app', 'postgres://app:pw@r2/app'],
        maxLagMs: 250,
        connectTimeoutMs: 500,
        waitTimeoutMs: 50,
      },
    });
    expect(load({}).replicas).toEqual({
      urls: [],
      maxLagMs: 1000,
      connectTimeoutMs: 1000,
      waitTimeoutMs: 100,
    });
    expect(load({ DATABASE_URL: 'postgres://h/db', DB_PREPARE: 'false' }).prepare).toBe(false);
  });

  it('refuses them with the embedded database, which is single-process, and a direct URL marked pooled', () => {
    const embedded = problemsOf(() =>
      load({
        DIRECT_DATABASE_URL: 'postgres://h/db',
        DATABASE_REPLICA_URLS: 'postgres://r/db',
        DB_PREPARE: 'false',
      }),
    );
    expect(embedded.map((p) => p.variable).sort()).toEqual([
      'DATABASE_REPLICA_URLS',
      'DB_PREPARE',
      'DIRECT_DATABASE_URL',
    ]);
    for (const problem of embedded) expect(problem.reason).toMatch(/needs DATABASE_URL.*single-process/);
    expect(
      problemsOf(() =>
        load({ DATABASE_URL: 'postgres://h/db', DIRECT_DATABASE_URL: 'postgres://h:6432/db?pgbouncer=true' }),
      ),
    ).toEqual([{ variable: 'DIRECT_DATABASE_URL', reason: expect.stringMatching(/not the pooler/) }]);
    expect(
      problemsOf(() => load({ DATABASE_URL: 'postgres://h/db', DATABASE_REPLICA_URLS: 'mysql://r' })),
    ).toEqual([
      { variable: 'DATABASE_REPLICA_URLS', reason: 'must be postgres:// URLs separated by commas' },
    ]);
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
