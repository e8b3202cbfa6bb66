import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Settings } from '../config.ts';
import { isServerEndedBackend, isSocketLost } from './connection-errors.ts';
import { ConnectionGate } from './gate.ts';
import { type Database, type DatabaseHandle, type OpenDatabaseOptions, timed } from './open.ts';

const READ_ONLY = /^\s*(select|with|show|values|table)\b/i;

/**
 * Exactly what drizzle-orm's postgres-js driver calls on the client it is given (0.45): `options` (it installs
 * parsers and serializers), `unsafe(query, params, {prepare})` awaited or read with `.values()`, and `begin`.
 * Ours gates and retries each call; test/postgres-adapter.test.ts hands Drizzle a client that refuses anything
 * else, so a Drizzle upgrade that calls more fails there rather than in production.
 */
export interface DrizzleClient {
  options: postgres.Sql['options'];
  unsafe(
    query: string,
    params?: unknown[],
    options?: object,
  ): PromiseLike<postgres.Row[]> & { values(): PromiseLike<unknown[][]> };
  begin(callback: (tx: postgres.TransactionSql) => unknown): Promise<unknown>;
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];
/** libpq parameters that configure the client; postgres.js would send them to the server as settings. */
const CLIENT_TLS_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'];

export interface ServerConnection {
  /** The URL without the TLS parameters, which are in `ssl`. */
  url: string;
  sslMode: SslMode;
  /** postgres.js's `ssl`: false, a mode it implements itself, or tls.connect options. */
  ssl: false | 'prefer' | 'require' | tls.ConnectionOptions;
}

export class TlsSettingsError extends Error {
  readonly code = 'GW_TLS_SETTINGS';
}

/** The system's CA store (Node >= 22.15); older Nodes fall back to their bundled Mozilla store. */
function systemCertificates(): string[] | undefined {
  return (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates?.('system');
}

function readPem(file: string, parameter: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new TlsSettingsError(
      `DATABASE_URL ${parameter}=${file} cannot be read: ${(error as Error).message}`,
    );
  }
}

/**
 * Gives `sslmode` and `sslrootcert` in a URL the meaning libpq documents: disable; allow and prefer (TLS when
 * the server offers it; allow also tries TLS first here, which is never weaker); require (encrypted, the
 * certificate unchecked, unless sslrootcert names a CA: then verify-ca, as in libpq); verify-ca (signed by
 * the CA); verify-full (signed by the CA and issued for the host). `sslrootcert=system` is the system's CAs
 * and implies verify-full. Without sslmode, libpq's default, prefer.
 */
export function serverConnection(url: string): ServerConnection {
  const parsed = new URL(url);
  const params = parsed.searchParams;
  const rootCert = params.get('sslrootcert') ?? undefined;
  const requested = params.get('sslmode') ?? (rootCert === 'system' ? 'verify-full' : 'prefer');
  if (!(SSL_MODES as readonly string[]).includes(requested)) {
    throw new TlsSettingsError(`DATABASE_URL sslmode=${requested} is not one of ${SSL_MODES.join(', ')}`);
  }
  let sslMode = requested as SslMode;
  if (rootCert === 'system' && sslMode !== 'verify-full') {
    throw new TlsSettingsError(
      `DATABASE_URL sslrootcert=system needs sslmode=verify-full (libpq refuses weaker modes with it), not ${sslMode}`,
    );
  }
  if (sslMode === 'require' && rootCert) sslMode = 'verify-ca';
  const clientCert = params.get('sslcert');
  const clientKey = params.get('sslkey');
  for (const name of CLIENT_TLS_PARAMS) params.delete(name);
  const base = { url: parsed.toString(), sslMode };
  if (sslMode === 'disable') return { ...base, ssl: false };
  if (sslMode === 'allow' || sslMode === 'prefer') return { ...base, ssl: 'prefer' };
  if (sslMode === 'require') return { ...base, ssl: 'require' };
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const ssl: tls.ConnectionOptions = {
    rejectUnauthorized: true,
    ca:
      rootCert === 'system' || rootCert === undefined
        ? systemCertificates()
        : readPem(rootCert, 'sslrootcert'),
    ...(clientCert ? { cert: readPem(clientCert, 'sslcert') } : {}),
    ...(clientKey ? { key: readPem(clientKey, 'sslkey') } : {}),
    // postgres.js sends no server name for an IP, so the host is checked here, against the URL's host.
    checkServerIdentity:
      sslMode === 'verify-full' ? (_name, cert) => tls.checkServerIdentity(host, cert) : () => undefined,
    ...(isIP(host) ? {} : { servername: host }),
  };
  return { ...base, ssl };
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/;

/** Why a mode is unsafe over a network, or undefined when it is safe (verified, or never leaves the machine). */
export function tlsRisk(connection: ServerConnection, url: string): string | undefined {
  if (connection.sslMode === 'verify-ca' || connection.sslMode === 'verify-full') return undefined;
  const { hostname } = new URL(url);
  if (hostname === '' || LOOPBACK.test(hostname)) return undefined;
  return connection.sslMode === 'disable'
    ? undefined
    : `DATABASE_URL sslmode=${connection.sslMode} does not verify the server's certificate: a man in the middle ` +
        'can read the traffic and the password. Use sslmode=verify-full with sslrootcert=<CA file> (or =system).';
}

const warned = new Set<string>();

export async function openServer<TSchema extends Record<string, unknown>>(
  url: string,
  settings: Pick<Settings, 'appName' | 'pool'> & Partial<Pick<Settings, 'nodeEnv'>>,
  options: OpenDatabaseOptions<TSchema>,
  logger: DrizzleLogger | undefined,
): Promise<DatabaseHandle<TSchema>> {
  const { pool } = settings;
  const connection = serverConnection(url);
  const risk = settings.nodeEnv === 'production' ? tlsRisk(connection, url) : undefined;
  if (risk && !warned.has(risk)) {
    warned.add(risk);
    (options.log ?? console.warn)(`warning: ${risk}`);
  }
  const sql = postgres(connection.url, {
    ssl: connection.ssl,
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
    const run = <T>(pick: (pending: postgres.PendingQuery<postgres.Row[]>) => PromiseLike<T>) =>
      gate.run(() =>
        withReconnect(
          () => pick(sql.unsafe(query, params as postgres.ParameterOrJSON<never>[], queryOptions)),
          readOnly,
        ),
      );
    return {
      // biome-ignore lint/suspicious/noThenProperty: Drizzle awaits this object like postgres.js's PendingQuery.
      then: <R1, R2>(
        resolve?: (rows: postgres.Row[]) => R1 | PromiseLike<R1>,
        reject?: (error: unknown) => R2 | PromiseLike<R2>,
      ) => run((pending) => pending).then(resolve, reject),
      values: () => run((pending) => pending.values()),
    };
  };
  const client: DrizzleClient = {
    options: sql.options,
    unsafe: gatedQuery,
    begin: (callback) => gate.run(() => withReconnect(() => sql.begin(callback), false)),
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
            (await reserved.unsafe(
              text,
              (params ?? []) as postgres.ParameterOrJSON<never>[],
            )) as unknown as T[],
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
