import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { redactSecrets } from './redact.ts';

/** Parsed, validated settings: the only shape the rest of the code reads. */
export interface Settings {
  appName: string;
  /** Absent: embedded PGlite under `dataDir`. */
  databaseUrl: string | undefined;
  /** DIRECT_DATABASE_URL: where sessions (migrations, db commands) go when DATABASE_URL is a transaction pooler. */
  directUrl: string | undefined;
  /**
   * DB_PREPARE: false means no named prepared statements and no session state; `?pgbouncer=true` on a URL
   * the same, but named statements where the pooler keeps them (database/pooler-statements.ts).
   */
  prepare: boolean;
  /**
   * DATABASE_REPLICA_URLS and DB_REPLICA_MAX_LAG_MS: read-only queries go to replicas within this lag.
   * DB_REPLICA_CONNECT_TIMEOUT_MS and DB_REPLICA_WAIT_TIMEOUT_MS bound a replica's connect and a read's wait
   * for a place in its pool; past either the primary serves the read.
   */
  replicas: { urls: string[]; maxLagMs: number; connectTimeoutMs: number; waitTimeoutMs: number };
  dataDir: string;
  pool: {
    max: number;
    connectTimeoutMs: number;
    waitTimeoutMs: number;
    idleTimeoutMs: number;
    maxLifetimeS: number;
    statementTimeoutMs: number;
  };
  logSql: boolean;
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  nodeEnv: 'development' | 'test' | 'production';
  /** Raw `SECRET_KEYS` value; parsed into a key ring by the apps that seal secrets. */
  secretKeys: string | undefined;
  migrateOnStart: boolean;
  /** How migrations behave on a live database: see docs/migrations.md, "Deploying to a live database". */
  migrations: MigrationSettings;
  /** How long a signalled server waits for in-flight requests before it destroys their connections. */
  shutdownTimeoutMs: number;
  auth: AuthSettings;
  /** METRICS, METRICS_PORT, METRICS_HOST: see docs/operations.md. */
  metrics: { enabled: boolean; port: number | undefined; host: string };
  /** OTEL_EXPORTER_OTLP_ENDPOINT: traces are exported there when set, and not made at all when not. */
  otlpEndpoint: string | undefined;
}

/** Who may call an app: see docs/auth.md. */
export interface AuthSettings {
  /** Raw `ADMIN_API_KEYS` (validated here, parsed by the server). */
  adminApiKeys: string | undefined;
  /** OpenID Connect issuer for `jwt` apps, when configured. */
  jwt: { issuer: string; audience: string; jwksUrl?: string } | undefined;
  /** Absolute lifetime of a login session (AUTH_SESSION_TTL_S). */
  sessionTtlS: number;
  /** A session unused this long is refused (AUTH_SESSION_IDLE_S). */
  sessionIdleS: number;
  /** Lifetime of a password-reset token (AUTH_RESET_TTL_S). */
  resetTtlS: number;
  /** MAIL_URL (an smtp:// or smtps:// URL) and MAIL_FROM: where password-reset messages go. */
  mail: { url: string | undefined; from: string };
}

/** The credentials an app accepts besides operator keys (AppDefinition.auth). */
export type AppAuthKind = 'jwt' | 'password' | 'none';

/** The timeouts and retries every migrating command runs with (upgrade, downgrade, reset, stamp). */
export interface MigrationSettings {
  /** MIGRATION_LOCK_TIMEOUT_MS: longest wait for one lock before the statement gives up (0: no limit). */
  lockTimeoutMs: number;
  /** MIGRATION_LOCK_RETRIES: further attempts after a lock timeout before the migration fails. */
  lockRetries: number;
  /** MIGRATION_LOCK_RETRY_DELAY_MS: the first wait between attempts; it doubles each retry, with jitter. */
  lockRetryDelayMs: number;
  /** MIGRATION_STATEMENT_TIMEOUT_MS: longest run of one migration statement (0: no limit). */
  statementTimeoutMs: number;
}

/** Used where neither the environment nor a flag says otherwise (config.ts's defaults). */
export const MIGRATION_DEFAULTS: MigrationSettings = {
  lockTimeoutMs: 1_000,
  lockRetries: 5,
  lockRetryDelayMs: 500,
  statementTimeoutMs: 0,
};

export type RawEnv = Record<string, string | undefined>;

export class SettingsError extends Error {
  readonly problems: { variable: string; reason: string }[];

  constructor(problems: { variable: string; reason: string }[]) {
    super(
      `Invalid settings:\n${problems.map((p) => `  ${p.variable}: ${p.reason}`).join('\n')}\n` +
        'Fix them in the environment or in .env (see .env.example).',
    );
    this.name = 'SettingsError';
    this.problems = problems;
  }
}

/** ASVS 4.0 3.3.2 at level 2: re-authentication after 12 hours, or after 30 minutes unused. */
const SESSION_TTL_S = 12 * 60 * 60;
const SESSION_IDLE_S = 30 * 60;
const RESET_TTL_S = 30 * 60;

const OPERATOR_KEY_MIN_LENGTH = 32;

/**
 * `ADMIN_API_KEYS` as a list: comma-separated, blanks dropped. Throws naming the entry (never its value) that a
 * Bearer header cannot carry or that is too short.
 */
export function operatorKeyList(raw: string | undefined): string[] {
  const keys = (raw ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
  keys.forEach((key, index) => {
    if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(key)) {
      throw new Error(
        `ADMIN_API_KEYS entry ${index + 1} has characters a Bearer header cannot carry; use base64 or hex`,
      );
    }
    if (key.length < OPERATOR_KEY_MIN_LENGTH) {
      throw new Error(
        `ADMIN_API_KEYS entry ${index + 1} is ${key.length} characters; each key needs at least ${OPERATOR_KEY_MIN_LENGTH} (openssl rand -base64 32)`,
      );
    }
  });
  return keys;
}

/** Production operator keys carry at least this many bits of estimated entropy (ASVS 2.10.4, 6.2.5). */
export const OPERATOR_KEY_MIN_BITS = 128;

/**
 * An estimate of a key's entropy from its own characters: its length times the Shannon entropy of their
 * frequencies. A random key scores close to its real strength (44 base64 characters: about 210 bits); a
 * repeated, patterned or short one scores low (32 x `a`: 0).
 */
export function estimatedEntropyBits(key: string): number {
  const counts = new Map<string, number>();
  for (const char of key) counts.set(char, (counts.get(char) ?? 0) + 1);
  let perChar = 0;
  for (const count of counts.values()) perChar -= (count / key.length) * Math.log2(count / key.length);
  return Math.floor(perChar * key.length);
}

/** Values that ship in examples and must never guard real data. */
const PLACEHOLDER_SECRETS = new Set(['', 'changeme', 'changethis', 'change-me', 'secret', 'password']);

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const SERVER_URL = /^postgres(ql)?:\/\//;
const databaseUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .refine((v) => v === undefined || SERVER_URL.test(v), {
    message: 'must start with postgres:// or postgresql:// (leave it unset for embedded PGlite)',
  })
  .refine((v) => v === undefined || URL.canParse(v), { message: 'is not a valid URL' });

const replicaUrls = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((url) => url.trim())
      .filter(Boolean),
  )
  .refine((urls) => urls.every((url) => SERVER_URL.test(url) && URL.canParse(url)), {
    message: 'must be postgres:// URLs separated by commas',
  });

/** Prisma's convention: `?pgbouncer=true` marks a URL that goes through a transaction pooler. */
export function markedPooled(url: string): boolean {
  return new URL(url).searchParams.get('pgbouncer') === 'true';
}

function envSchema(defaults: SettingsDefaults) {
  return z.object({
    DATABASE_URL: databaseUrl.optional(),
    DIRECT_DATABASE_URL: databaseUrl.optional(),
    DATABASE_REPLICA_URLS: replicaUrls.optional(),
    DB_PREPARE: flag.default(true),
    DB_REPLICA_MAX_LAG_MS: integer(1, 3_600_000).default(1_000),
    DB_REPLICA_CONNECT_TIMEOUT_MS: integer(100, 600_000).default(1_000),
    DB_REPLICA_WAIT_TIMEOUT_MS: integer(1, 600_000).default(100),
    DATA_DIR: z.string().min(1).optional(),
    DATA_ROOT: z.string().min(1).optional(),
    DB_POOL_MAX: integer(1, 1000).default(defaults.poolMax ?? 10),
    DB_CONNECT_TIMEOUT_MS: integer(100, 600_000).default(5_000),
    DB_POOL_WAIT_TIMEOUT_MS: integer(1, 600_000).default(5_000),
    DB_IDLE_TIMEOUT_MS: integer(0, 86_400_000).default(30_000),
    DB_MAX_LIFETIME_S: integer(0, 86_400).default(1_800),
    DB_STATEMENT_TIMEOUT_MS: integer(0, 86_400_000).default(30_000),
    DB_LOG_SQL: flag.default(false),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: integer(0, 65_535).default(defaults.port ?? 3000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    SECRET_KEYS: z.string().optional(),
    MIGRATE_ON_START: flag.optional(),
    MIGRATION_LOCK_TIMEOUT_MS: integer(0, 600_000).default(MIGRATION_DEFAULTS.lockTimeoutMs),
    MIGRATION_LOCK_RETRIES: integer(0, 100).default(MIGRATION_DEFAULTS.lockRetries),
    MIGRATION_LOCK_RETRY_DELAY_MS: integer(0, 600_000).default(MIGRATION_DEFAULTS.lockRetryDelayMs),
    MIGRATION_STATEMENT_TIMEOUT_MS: integer(0, 86_400_000).default(MIGRATION_DEFAULTS.statementTimeoutMs),
    SHUTDOWN_TIMEOUT_MS: integer(0, 600_000).default(10_000),
    ADMIN_API_KEYS: z.string().optional(),
    AUTH_ISSUER: z.url({ message: 'must be the issuer URL (https://...)' }).optional(),
    AUTH_AUDIENCE: z.string().min(1).optional(),
    AUTH_JWKS_URL: z.url({ message: 'must be a URL' }).optional(),
    AUTH_SESSION_TTL_S: integer(60, 31_536_000).default(SESSION_TTL_S),
    METRICS: flag.default(true),
    METRICS_PORT: integer(1, 65_535).optional(),
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    OTEL_EXPORTER_OTLP_ENDPOINT: z
      .url({ message: 'must be the collector URL (http://host:4318)' })
      .optional(),
    AUTH_SESSION_IDLE_S: integer(60, 31_536_000).default(SESSION_IDLE_S),
    AUTH_RESET_TTL_S: integer(60, 86_400).default(RESET_TTL_S),
    MAIL_URL: z
      .string()
      .regex(/^smtps?:\/\//, { message: 'must be an smtp:// or smtps:// URL' })
      .refine((v) => URL.canParse(v), { message: 'is not a valid URL' })
      .optional(),
    MAIL_FROM: z.string().min(3).optional(),
  });
}

export interface SettingsDefaults {
  poolMax?: number;
  port?: number;
}

export interface LoadSettingsOptions {
  appName: string;
  /** The app's folder: its `.env` is read first, then the working directory's. */
  appDir?: string;
  /** Defaults to process.env; the environment wins over .env files. */
  env?: RawEnv;
  /** Read .env files (off in tests that pass `env` explicitly). */
  readDotenv?: boolean;
  defaults?: SettingsDefaults;
  /** Whether the app needs SECRET_KEYS at all. */
  requireSecretKeys?: boolean;
  /** Where `.data/<app>` lives; the workspace root, so every command finds the same embedded database. */
  dataRoot?: string;
}

/** Reads `.env` files; the first file to define a variable wins, and the environment beats them all. */
export function readEnv(appDir: string | undefined, env: RawEnv = process.env): RawEnv {
  const merged: RawEnv = {};
  const files = [appDir && join(appDir, '.env'), resolve('.env')].filter((f): f is string => Boolean(f));
  for (const file of new Set(files)) {
    if (!existsSync(file)) continue;
    const parsed = parseDotenv(readFileSync(file));
    for (const [key, value] of Object.entries(parsed)) merged[key] ??= value;
  }
  return { ...merged, ...env };
}

/** Validates every variable at once and throws a SettingsError listing each problem. */
export function loadSettings(options: LoadSettingsOptions): Settings {
  const raw =
    options.readDotenv === false ? (options.env ?? process.env) : readEnv(options.appDir, options.env);
  const result = envSchema(options.defaults ?? {}).safeParse(withoutBlanks(raw));
  const problems: { variable: string; reason: string }[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push({ variable: String(issue.path[0] ?? '?'), reason: redactSecrets(issue.message) });
    }
  }
  const nodeEnv = result.success ? result.data.NODE_ENV : (raw.NODE_ENV ?? 'development');
  const secretKeys = raw.SECRET_KEYS?.trim();
  if (nodeEnv !== 'development' && nodeEnv !== 'test') {
    if (options.requireSecretKeys && PLACEHOLDER_SECRETS.has((secretKeys ?? '').toLowerCase())) {
      problems.push({
        variable: 'SECRET_KEYS',
        reason:
          'is empty or a placeholder; outside development set real keys (groundwork secrets generate-key)',
      });
    }
    const password = passwordOf(raw.DATABASE_URL);
    if (password !== undefined && PLACEHOLDER_SECRETS.has(password.toLowerCase())) {
      problems.push({
        variable: 'DATABASE_URL',
        reason: 'has a placeholder password; outside development use a real one',
      });
    }
  }
  if (result.success) problems.push(...authProblems(result.data), ...scaleOutProblems(result.data));
  if (result.success && nodeEnv === 'production') problems.push(...operatorKeyStrengthProblems(result.data));
  if (problems.length > 0 || !result.success) throw new SettingsError(problems);
  const env = result.data;
  return {
    appName: options.appName,
    databaseUrl: env.DATABASE_URL,
    directUrl: env.DIRECT_DATABASE_URL,
    prepare: env.DB_PREPARE,
    replicas: {
      urls: env.DATABASE_REPLICA_URLS ?? [],
      maxLagMs: env.DB_REPLICA_MAX_LAG_MS,
      connectTimeoutMs: env.DB_REPLICA_CONNECT_TIMEOUT_MS,
      waitTimeoutMs: env.DB_REPLICA_WAIT_TIMEOUT_MS,
    },
    // DATA_ROOT holds every app's folder: one variable moves all apps' databases (a benchmark's scratch copy).
    dataDir: env.DATA_DIR
      ? resolve(env.DATA_DIR)
      : env.DATA_ROOT
        ? resolve(env.DATA_ROOT, options.appName)
        : resolve(options.dataRoot ?? '.', '.data', options.appName),
    pool: {
      max: env.DB_POOL_MAX,
      connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
      waitTimeoutMs: env.DB_POOL_WAIT_TIMEOUT_MS,
      idleTimeoutMs: env.DB_IDLE_TIMEOUT_MS,
      maxLifetimeS: env.DB_MAX_LIFETIME_S,
      statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    },
    logSql: env.DB_LOG_SQL,
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    nodeEnv: env.NODE_ENV,
    secretKeys: secretKeys || undefined,
    // Embedded databases belong to this process, so they follow the code; servers migrate on request.
    migrateOnStart: env.MIGRATE_ON_START ?? env.DATABASE_URL === undefined,
    migrations: {
      lockTimeoutMs: env.MIGRATION_LOCK_TIMEOUT_MS,
      lockRetries: env.MIGRATION_LOCK_RETRIES,
      lockRetryDelayMs: env.MIGRATION_LOCK_RETRY_DELAY_MS,
      statementTimeoutMs: env.MIGRATION_STATEMENT_TIMEOUT_MS,
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    auth: {
      adminApiKeys: env.ADMIN_API_KEYS,
      jwt:
        env.AUTH_ISSUER && env.AUTH_AUDIENCE
          ? { issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE, jwksUrl: env.AUTH_JWKS_URL }
          : undefined,
      sessionTtlS: env.AUTH_SESSION_TTL_S,
      sessionIdleS: env.AUTH_SESSION_IDLE_S,
      resetTtlS: env.AUTH_RESET_TTL_S,
      mail: { url: env.MAIL_URL, from: env.MAIL_FROM ?? `${options.appName} <no-reply@localhost>` },
    },
    metrics: { enabled: env.METRICS, port: env.METRICS_PORT, host: env.METRICS_HOST },
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
  };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * An app never serves everyone by accident: in production it needs credentials (its issuer, or at least
 * operator keys), and with none configured it listens on loopback only. Checked when an app starts, not by
 * the db commands.
 */
export function startProblems(settings: Settings, kind: AppAuthKind): { variable: string; reason: string }[] {
  const problems: { variable: string; reason: string }[] = [];
  const configured = credentialsConfigured(settings, kind);
  if (settings.nodeEnv === 'production') {
    if (!configured && kind !== 'password') {
      problems.push({
        variable: kind === 'jwt' ? 'AUTH_ISSUER, AUTH_AUDIENCE' : 'ADMIN_API_KEYS',
        reason:
          kind === 'jwt'
            ? 'a production app needs its token issuer (AUTH_ISSUER and AUTH_AUDIENCE) or at least ADMIN_API_KEYS'
            : 'a production app needs ADMIN_API_KEYS (an admin-only API)',
      });
    }
  } else if (!configured && !LOOPBACK.has(settings.host)) {
    problems.push({
      variable: 'HOST',
      reason: `is ${settings.host}, but no credentials are configured, so anyone could call the app: set ADMIN_API_KEYS${kind === 'jwt' ? ' or AUTH_ISSUER and AUTH_AUDIENCE' : ''}, or listen on 127.0.0.1`,
    });
  }
  return problems;
}

/** True when requests without a credential act as operators: outside production, with nothing configured. */
export function servesOpenly(settings: Settings, kind: AppAuthKind): boolean {
  return settings.nodeEnv !== 'production' && !credentialsConfigured(settings, kind);
}

const credentialsConfigured = ({ auth }: Settings, kind: AppAuthKind) =>
  Boolean(auth.adminApiKeys) || (kind === 'jwt' && auth.jwt !== undefined);

/** ADMIN_API_KEYS parses and the issuer comes with its audience. */
function authProblems(env: z.infer<ReturnType<typeof envSchema>>) {
  const problems: { variable: string; reason: string }[] = [];
  try {
    operatorKeyList(env.ADMIN_API_KEYS);
  } catch (error) {
    problems.push({
      variable: 'ADMIN_API_KEYS',
      reason: (error as Error).message.replace(/^ADMIN_API_KEYS /, ''),
    });
  }
  if (Boolean(env.AUTH_ISSUER) !== Boolean(env.AUTH_AUDIENCE)) {
    problems.push({
      variable: env.AUTH_ISSUER ? 'AUTH_AUDIENCE' : 'AUTH_ISSUER',
      reason: 'AUTH_ISSUER and AUTH_AUDIENCE go together',
    });
  }
  return problems;
}

/** In production each operator key must be random enough, not just long enough. */
function operatorKeyStrengthProblems(env: z.infer<ReturnType<typeof envSchema>>) {
  let keys: string[];
  try {
    keys = operatorKeyList(env.ADMIN_API_KEYS);
  } catch {
    return []; // authProblems reports it
  }
  return keys.flatMap((key, index) => {
    const bits = estimatedEntropyBits(key);
    if (bits >= OPERATOR_KEY_MIN_BITS) return [];
    return [
      {
        variable: 'ADMIN_API_KEYS',
        reason: `entry ${index + 1} has about ${bits} bits of estimated entropy; production needs at least ${OPERATOR_KEY_MIN_BITS}: generate each key with openssl rand -base64 32`,
      },
    ];
  });
}

/**
 * Poolers, direct URLs and replicas are about servers: PGlite is one process with its own data directory, so
 * asking for them with an embedded database is a mistake to report, not to ignore.
 */
function scaleOutProblems(env: z.infer<ReturnType<typeof envSchema>>) {
  const problems: { variable: string; reason: string }[] = [];
  if (env.DATABASE_URL === undefined) {
    const embedded =
      'needs DATABASE_URL: the embedded database (PGlite) is single-process, with no pooler or replicas';
    if (env.DIRECT_DATABASE_URL) problems.push({ variable: 'DIRECT_DATABASE_URL', reason: embedded });
    if (env.DATABASE_REPLICA_URLS?.length)
      problems.push({ variable: 'DATABASE_REPLICA_URLS', reason: embedded });
    if (!env.DB_PREPARE) problems.push({ variable: 'DB_PREPARE', reason: embedded });
  }
  if (env.DIRECT_DATABASE_URL && markedPooled(env.DIRECT_DATABASE_URL)) {
    problems.push({
      variable: 'DIRECT_DATABASE_URL',
      reason:
        'is marked ?pgbouncer=true: it must reach the server itself (sessions, advisory locks), not the pooler',
    });
  }
  return problems;
}

function withoutBlanks(raw: RawEnv): RawEnv {
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v.trim() !== ''));
}

function passwordOf(url: string | undefined): string | undefined {
  if (!url || !URL.canParse(url)) return undefined;
  const { password } = new URL(url);
  return password === '' ? undefined : decodeURIComponent(password);
}
