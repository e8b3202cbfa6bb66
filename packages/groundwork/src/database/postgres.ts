import type { Logger as DrizzleLogger } from 'drizzle-orm';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Settings } from '../config.ts';
import { isServerEndedBackend, isSocketLost } from './connection-errors.ts';
import { ConnectionGate } from './gate.ts';
import { type Database, type DatabaseHandle, type OpenDatabaseOptions, timed } from './open.ts';

const READ_ONLY = /^\s*(select|with|show|values|table)\b/i;

export async function openServer<TSchema extends Record<string, unknown>>(
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
