import type { PGlite } from '@electric-sql/pglite';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { Settings } from '../config.ts';
import { redactSecrets } from '../redact.ts';
import { PING_TIMEOUT } from './connection-errors.ts';
import type { ReplicaStatus } from './replicas.ts';

/** The Drizzle type repositories are written against: the same for PGlite and postgres.js. */
export type Database<TSchema extends Record<string, unknown> = Record<string, unknown>> = PgDatabase<
  PgQueryResultHKT,
  TSchema
>;
export type Transaction<TSchema extends Record<string, unknown> = Record<string, unknown>> = PgTransaction<
  PgQueryResultHKT,
  TSchema
>;
/** A repository method runs on the database or inside a caller's transaction. */
export type Executor<TSchema extends Record<string, unknown> = Record<string, unknown>> =
  | Database<TSchema>
  | Transaction<TSchema>;

export type ExtensionName = 'uuid-ossp' | 'citext' | 'vector' | 'pg_trgm';
export type Engine = 'pglite' | 'postgres';

/** One dedicated session, for work that needs the same connection throughout (migrations, locks). */
export interface SqlSession {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  release(): Promise<void>;
}

export interface PoolStats {
  engine: Engine;
  max: number;
  active: number;
  waiting: number;
}

export interface DatabaseHandle<TSchema extends Record<string, unknown> = Record<string, unknown>> {
  /** With DATABASE_REPLICA_URLS, selects outside transactions may read a replica (see replicas.ts). */
  db: Database<TSchema>;
  /** Always the primary: for reads that must see every commit, such as looking up a login session. */
  primary: Database<TSchema>;
  engine: Engine;
  /**
   * session() goes through a transaction pooler (DATABASE_URL with ?pgbouncer=true or DB_PREPARE=false and
   * no DIRECT_DATABASE_URL): nothing set on it (an advisory lock, SET) outlives a transaction.
   */
  pooledSessions: boolean;
  /** Each replica's state and lag; empty without replicas. */
  replicas(): Promise<ReplicaStatus[]>;
  /** Resolves with the round-trip time in ms; rejects on error or after `timeoutMs`. */
  ping(timeoutMs?: number): Promise<number>;
  session(): Promise<SqlSession>;
  stats(): PoolStats;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions<TSchema extends Record<string, unknown>> {
  schema: TSchema;
  extensions?: readonly ExtensionName[];
  /** Use this PGlite instance instead of opening `settings.dataDir` (tests). */
  pglite?: PGlite;
  /** Receives SQL text (never parameters) when DB_LOG_SQL is on, and warnings about the connection. */
  log?: (message: string) => void;
  /** postgres.js `application_name`; defaults to `groundwork:<app>`. */
  applicationName?: string;
}

export class PingTimeoutError extends Error {
  readonly code = PING_TIMEOUT;
  constructor(timeoutMs: number) {
    super(`database did not answer within ${timeoutMs} ms`);
  }
}

export async function openDatabase<TSchema extends Record<string, unknown>>(
  settings: Pick<Settings, 'appName' | 'databaseUrl' | 'dataDir' | 'pool' | 'logSql'> &
    Partial<Pick<Settings, 'nodeEnv' | 'directUrl' | 'prepare' | 'replicas'>>,
  options: OpenDatabaseOptions<TSchema>,
): Promise<DatabaseHandle<TSchema>> {
  const logger: DrizzleLogger | undefined =
    settings.logSql && options.log ? { logQuery: (query) => options.log?.(query) } : undefined;
  // Each engine's driver is loaded only when used: importing PGlite is a noticeable part of a start.
  if (settings.databaseUrl) {
    const { openServer } = await import('./postgres.ts');
    return openServer(settings.databaseUrl, settings, options, logger);
  }
  const { openEmbedded } = await import('./pglite.ts');
  return openEmbedded(settings, options, logger);
}

export async function timed(run: () => PromiseLike<unknown>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new PingTimeoutError(timeoutMs)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return Math.round((performance.now() - started) * 100) / 100;
}

/** A description of where the database lives, safe to log. */
export function describeDatabase(
  settings: Pick<Settings, 'databaseUrl' | 'dataDir'> & Partial<Pick<Settings, 'directUrl'>>,
): string {
  if (!settings.databaseUrl) return `embedded PGlite at ${settings.dataDir}`;
  const url = redactSecrets(settings.databaseUrl);
  return settings.directUrl ? `${url} (direct: ${redactSecrets(settings.directUrl)})` : url;
}
