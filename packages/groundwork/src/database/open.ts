import { mkdirSync } from 'node:fs';
import type { Extension } from '@electric-sql/pglite';
import { PGlite } from '@electric-sql/pglite';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Settings } from '../config.ts';
import { redactSecrets } from '../redact.ts';
import { isServerEndedBackend, isSocketLost } from './connection-errors.ts';
import { ConnectionGate } from './gate.ts';

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
  db: Database<TSchema>;
  engine: Engine;
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
  /** Receives SQL text (never parameters) when DB_LOG_SQL is on. */
  log?: (message: string) => void;
  /** postgres.js `application_name`; defaults to `groundwork:<app>`. */
  applicationName?: string;
}

export class PingTimeoutError extends Error {
  readonly code = 'GW_PING_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`database did not answer within ${timeoutMs} ms`);
  }
}

export async function openDatabase<TSchema extends Record<string, unknown>>(
  settings: Pick<Settings, 'appName' | 'databaseUrl' | 'dataDir' | 'pool' | 'logSql'>,
  options: OpenDatabaseOptions<TSchema>,
): Promise<DatabaseHandle<TSchema>> {
  const logger: DrizzleLogger | undefined =
    settings.logSql && options.log ? { logQuery: (query) => options.log?.(query) } : undefined;
  return settings.databaseUrl
    ? openServer(settings.databaseUrl, settings, options, logger)
    : openEmbedded(settings, options, logger);
}

export async function pgliteExtensions(
  names: readonly ExtensionName[] = [],
): Promise<Record<string, Extension>> {
  const loaders: Record<ExtensionName, () => Promise<[string, Extension]>> = {
    'uuid-ossp': async () => [
      'uuid_ossp',
      (await import('@electric-sql/pglite/contrib/uuid_ossp')).uuid_ossp,
    ],
    citext: async () => ['citext', (await import('@electric-sql/pglite/contrib/citext')).citext],
    pg_trgm: async () => ['pg_trgm', (await import('@electric-sql/pglite/contrib/pg_trgm')).pg_trgm],
    vector: async () => ['vector', (await import('@electric-sql/pglite-pgvector')).vector as Extension],
  };
  return Object.fromEntries(await Promise.all(names.map((name) => loaders[name]())));
}

async function openEmbedded<TSchema extends Record<string, unknown>>(
  settings: Pick<Settings, 'dataDir'>,
  options: OpenDatabaseOptions<TSchema>,
  logger: DrizzleLogger | undefined,
): Promise<DatabaseHandle<TSchema>> {
  let client = options.pglite;
  if (!client) {
    mkdirSync(settings.dataDir, { recursive: true });
    client = await PGlite.create(settings.dataDir, {
      extensions: await pgliteExtensions(options.extensions),
    });
  }
  const pglite = client;
  const db = drizzlePglite(pglite, { schema: options.schema, logger }) as unknown as Database<TSchema>;
  return {
    db,
    engine: 'pglite',
    ping: (timeoutMs = 1000) => timed(() => pglite.query('select 1'), timeoutMs),
    async session() {
      return {
        query: async <T>(text: string, params?: unknown[]) =>
          params?.length ? (await pglite.query<T>(text, params)).rows : lastRows<T>(await pglite.exec(text)),
        release: async () => {},
      };
    },
    stats: () => ({ engine: 'pglite', max: 1, active: 0, waiting: 0 }),
    // A caller-supplied instance belongs to the caller.
    close: async () => {
      if (!options.pglite && !pglite.closed) await pglite.close();
    },
  };
}

function lastRows<T>(results: { rows: unknown[] }[]): T[] {
  return (results.at(-1)?.rows ?? []) as T[];
}

const READ_ONLY = /^\s*(select|with|show|values|table)\b/i;

async function openServer<TSchema extends Record<string, unknown>>(
  url: string,
  settings: Pick<Settings, 'appName' | 'pool'>,
  options: OpenDatabaseOptions<TSchema>,
  logger: DrizzleLogger | undefined,
): Promise<DatabaseHandle<TSchema>> {
  const { pool } = settings;
  const sql = postgres(url, {
    max: pool.max,
    connect_timeout: Math.max(1, Math.ceil(pool.connectTimeoutMs / 1000)),
    idle_timeout: pool.idleTimeoutMs > 0 ? Math.max(1, Math.round(pool.idleTimeoutMs / 1000)) : undefined,
    max_lifetime: pool.maxLifetimeS > 0 ? pool.maxLifetimeS : null,
    connection: {
      application_name: options.applicationName ?? `groundwork:${settings.appName}`,
      ...(pool.statementTimeoutMs > 0 ? { statement_timeout: pool.statementTimeoutMs } : {}),
    },
    onnotice: () => {},
  });
  const gate = new ConnectionGate(pool.max, pool.waitTimeoutMs);

  /**
   * A connection the server has dropped is only discovered when used. Retry on a fresh one when that is
   * safe: the server ended the backend (nothing committed), or a read lost its socket. Each retry discards
   * one dead connection, so pool.max + 1 attempts always reach a live one if the server is up.
   */
  async function withReconnect<T>(run: () => PromiseLike<T>, readOnly: boolean): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        const retryable = isServerEndedBackend(error) || (readOnly && isSocketLost(error));
        if (!retryable || attempt >= pool.max) throw error;
      }
    }
  }

  const gatedQuery = (query: string, params?: unknown[], queryOptions?: object) => {
    const readOnly = READ_ONLY.test(query);
    const run = <T>(pick: (pending: postgres.PendingQuery<any>) => PromiseLike<T>) =>
      gate.run(() => withReconnect(() => pick(sql.unsafe(query, params as any[], queryOptions)), readOnly));
    // Drizzle awaits the query itself or calls `.values()` on it.
    return {
      // biome-ignore lint/suspicious/noThenProperty: Drizzle awaits this object like postgres.js's PendingQuery.
      then: (resolve: any, reject: any) => run((pending) => pending).then(resolve, reject),
      values: () => run((pending) => pending.values()),
    };
  };
  const client = {
    options: sql.options,
    unsafe: gatedQuery,
    begin: (callback: (tx: postgres.TransactionSql) => unknown) =>
      gate.run(() => withReconnect(() => sql.begin(callback as any) as Promise<unknown>, false)),
  };
  const db = drizzlePostgres(client as unknown as postgres.Sql, {
    schema: options.schema,
    logger,
  }) as unknown as Database<TSchema>;

  return {
    db,
    engine: 'postgres',
    ping: (timeoutMs = 1000) =>
      timed(() => gate.run(() => withReconnect(() => sql`select 1`, true)), timeoutMs),
    async session() {
      // The permit stays taken while the session lives, so the gate never promises a connection it lacks.
      await gate.acquire();
      try {
        const reserved = await sql.reserve();
        return {
          query: async <T>(text: string, params?: unknown[]) =>
            (await reserved.unsafe(text, (params ?? []) as any[])) as unknown as T[],
          release: async () => {
            reserved.release();
            gate.release();
          },
        };
      } catch (error) {
        gate.release();
        throw error;
      }
    },
    stats: () => ({ engine: 'postgres', max: pool.max, active: gate.active, waiting: gate.waiting }),
    // postgres.js waits out the whole timeout after a lost connection even with nothing in flight.
    close: () => sql.end({ timeout: gate.active === 0 ? 0 : 5 }),
  };
}

async function timed(run: () => PromiseLike<unknown>, timeoutMs: number): Promise<number> {
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
export function describeDatabase(settings: Pick<Settings, 'databaseUrl' | 'dataDir'>): string {
  return settings.databaseUrl
    ? redactSecrets(settings.databaseUrl)
    : `embedded PGlite at ${settings.dataDir}`;
}
