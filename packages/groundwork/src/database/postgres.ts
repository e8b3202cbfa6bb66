import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { inOneRoundTrip, oneRoundTripScope } from '../adapters/postgres-one-trip.ts';
import { guardedSocket } from '../adapters/postgres-socket.ts';
import { shareTypeTables } from '../adapters/postgres-type-tables.ts';
import { markedPooled, type Settings } from '../config.ts';
import { watchPool } from '../observability/metrics.ts';
import { type Admitted, observeQueries } from '../observability/queries.ts';
import { arrayTypesLoader } from './array-types.ts';
import { isNeverSent, isUnreachable } from './connection-errors.ts';
import { ConnectionGate } from './gate.ts';
import {
  type Database,
  type DatabaseHandle,
  type OpenDatabaseOptions,
  type SqlSession,
  timed,
} from './open.ts';
import { poolerKeepsNamedStatements } from './pooler-statements.ts';
import { markWritten } from './read-your-writes.ts';
import { ReplicaSet, readClient, routedDatabase } from './replicas.ts';

/** Statements that only read, for read-your-writes. Not `with`: it may wrap an insert, update or delete. */
const READ_ONLY = /^\s*(select|show|values|table)\b/i;

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
/**
 * Parameters that configure the client (libpq's TLS ones, Prisma's pooler flag); postgres.js would send them
 * to the server as settings.
 */
const CLIENT_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'pgbouncer'];

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
  for (const name of CLIENT_PARAMS) params.delete(name);
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

/**
 * postgres.js's `ssl` and `socket` for a connection: our socket (adapters/postgres-socket.ts), which also does
 * the TLS and awaits `ready` before connecting, for a URL with one host; postgres.js's own for a multi-host URL.
 */
function transport(
  connection: ServerConnection,
  ready?: () => Promise<void>,
): {
  ssl: ServerConnection['ssl'];
  /** postgres.js takes it; its types do not list it. */
  socket?: () => unknown;
} {
  const parsed = new URL(connection.url);
  const host = parsed.searchParams.get('host') ?? decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, ''));
  if (host.includes(',') || parsed.port.includes(',')) return { ssl: connection.ssl };
  const port = Number(parsed.searchParams.get('port') ?? (parsed.port || 5432));
  return {
    ssl: false,
    socket: guardedSocket({ host: host || 'localhost', port, ssl: connection.ssl, ready }),
  };
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

/** The longest a pool's connection waits before trying again after a failed connection (see below). */
const RECONNECT_DELAY_MAX_S = 1;

/**
 * postgres.js's wait before a connection of the pool tries again: its own growth (x3 per failure from about
 * 10 ms, with jitter), capped at 1 s instead of its 20. Its count of failures is shared by the whole pool and
 * reset only by a connection that succeeds: uncapped, one burst of refusals (a server at max_connections
 * answering "too many clients") puts every connection 10-20 s from its next try, so statements already handed
 * to postgres.js wait that long, past DB_POOL_WAIT_TIMEOUT_MS and holding the gate's places, and the pool
 * stays down that long after the server has room again. A try is made only for a waiting statement.
 */
function reconnectDelayS(failures: number): number {
  return (0.5 + Math.random() / 2) * Math.min(3 ** failures / 100, RECONNECT_DELAY_MAX_S);
}

type PoolSettings = Pick<Settings, 'appName' | 'pool'> & Partial<Pick<Settings, 'nodeEnv' | 'metrics'>>;

/** One postgres.js pool behind a gate, as Drizzle's client: the primary's, a replica's or the direct one's. */
interface ServerPool {
  sql: postgres.Sql;
  gate: ConnectionGate;
  client: DrizzleClient;
  ping(timeoutMs?: number): Promise<number>;
  session(): Promise<SqlSession>;
  close(): Promise<void>;
}

interface PoolOptions {
  /** Its `pool` label in metrics and spans: primary, direct or replica-<n>. */
  role: string;
  /** Through a transaction pooler: no session-level settings. */
  pooled: boolean;
  /** Named prepared statements: not through a pooler, unless it keeps them itself (pooler-statements.ts). */
  named: boolean;
  applicationName: string;
  /** Called for each statement that may write and each transaction (read-your-writes). */
  onWrite?: () => void;
  /**
   * A replica's pool, given its primary's: it uses the primary's type parsers and serializers, and reconnects
   * without growing delays, since the replica monitor decides when it is used.
   */
  replicaOf?: postgres.Sql;
}

function openPool(
  url: string,
  settings: PoolSettings,
  options: OpenDatabaseOptions<Record<string, unknown>>,
  { role, pooled, named, applicationName, onWrite, replicaOf }: PoolOptions,
): ServerPool {
  const { pool } = settings;
  const connection = serverConnection(url);
  const risk = settings.nodeEnv === 'production' ? tlsRisk(connection, url) : undefined;
  if (risk && !warned.has(risk)) {
    warned.add(risk);
    (options.log ?? console.warn)(`warning: ${risk}`);
  }
  const timeout = pool.statementTimeoutMs;
  // The pool loads the array types itself before its connections open (array-types.ts); a replica reads its
  // primary's. postgres.js's own socket (a multi-host URL) leaves the load to postgres.js.
  const arrayTypes = replicaOf
    ? undefined
    : arrayTypesLoader(
        () => sql,
        () =>
          postgres(connection.url, {
            ...transport(connection),
            max: 1,
            fetch_types: false,
            connect_timeout: pool.connectTimeoutMs / 1000,
            connection: { application_name: `${applicationName}:types` },
            onnotice: () => {},
          }),
        pool.connectTimeoutMs,
      );
  const stream = transport(connection, arrayTypes);
  const sql = postgres(connection.url, {
    ...stream,
    max: pool.max,
    // Seconds, fractions included (postgres.js times it with setTimeout).
    connect_timeout: pool.connectTimeoutMs / 1000,
    idle_timeout: pool.idleTimeoutMs > 0 ? Math.max(1, Math.round(pool.idleTimeoutMs / 1000)) : undefined,
    max_lifetime: pool.maxLifetimeS > 0 ? pool.maxLifetimeS : null,
    // A transaction pooler hands each transaction any server connection: a statement named on one is unknown
    // on the next (unless the pooler keeps it), and a startup setting would stay on whichever it reached first.
    prepare: named,
    fetch_types: !replicaOf && !stream.socket,
    // postgres.js otherwise waits up to 20 s before reconnecting after failures: a replica the monitor found
    // back would stall the reads sent to it.
    backoff: replicaOf ? () => 0.05 : reconnectDelayS,
    connection: {
      application_name: applicationName,
      ...(timeout > 0 && !pooled ? { statement_timeout: timeout } : {}),
    },
    onnotice: () => {},
  });
  // A replica's connections use its primary's type tables instead of loading their own (see the adapter).
  if (replicaOf) shareTypeTables(sql, replicaOf);
  // Unnamed statements go in one round trip where their parameters allow (see the adapter).
  const send: <Q>(query: Q) => Q = named ? (query) => query : inOneRoundTrip;
  const gate = new ConnectionGate(pool.max, pool.waitTimeoutMs);
  const metrics = settings.metrics?.enabled !== false;
  const unwatch = metrics
    ? watchPool({
        app: settings.appName,
        pool: role,
        size: pool.max,
        get inUse() {
          return gate.connectionsInUse;
        },
        get waiting() {
          return gate.waiting;
        },
      })
    : undefined;
  const observe = observeQueries(settings.appName, role, metrics);
  // Through a pooler the timeout is set per transaction, unless the server's own setting already bounds every
  // statement (checked below); the value is a validated integer, not input.
  let setTimeoutSql = pooled && timeout > 0 ? `set local statement_timeout = ${timeout}` : undefined;
  const serverBound = setTimeoutSql
    ? serverTimeoutCheck(
        sql,
        timeout,
        () => {
          setTimeoutSql = undefined;
        },
        options.log ?? console.warn,
      )
    : undefined;
  serverBound?.();

  /** The last statement found no server to connect to (reset by the next that succeeds). */
  let unreachable = false;

  /**
   * A connection the server has dropped is only discovered when used. A statement is run again on a fresh
   * one only when it never left this process (adapters/postgres-socket.ts knows), whatever its text: one
   * that reached the server may have run (a nextval, a write whose commit was not heard). Each retry discards
   * one dead connection, so pool.max + 1 attempts always reach a live one if the server is up.
   */
  async function withReconnect<T>(run: () => PromiseLike<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await run();
        unreachable = false;
        return result;
      } catch (error) {
        unreachable = isUnreachable(error);
        if (!isNeverSent(error) || attempt >= pool.max) throw error;
      }
    }
  }

  type Pending = ReturnType<postgres.Sql['unsafe']>;

  /**
   * Outside a transaction, through a pooler: begin, the timeout, the statement and commit, written together on
   * one connection, so the timeout bounds this statement and leaves with its transaction.
   */
  async function ownTransaction<T>(
    limitSql: string,
    query: string,
    params: unknown[] | undefined,
    queryOptions: object | undefined,
    pick: (pending: Pending) => PromiseLike<T>,
  ): Promise<T> {
    const reserved = await sql.reserve();
    try {
      const begin = reserved.unsafe('begin').execute();
      const limit = reserved.unsafe(limitSql).execute();
      const pending = send(reserved.unsafe(query, params as postgres.ParameterOrJSON<never>[], queryOptions));
      const result = pick(pending);
      pending.execute();
      // After a failed statement the transaction is aborted and commit answers ROLLBACK, without an error.
      const commit = reserved.unsafe('commit').execute();
      const [opened, limited, ran, committed] = await Promise.allSettled([begin, limit, result, commit]);
      for (const step of [opened, limited, ran, committed]) if (step.status === 'rejected') throw step.reason;
      return (ran as PromiseFulfilledResult<Awaited<T>>).value;
    } finally {
      reserved.release();
    }
  }

  const gatedQuery = (query: string, params?: unknown[], queryOptions?: object) => {
    if (!READ_ONLY.test(query)) onWrite?.();
    serverBound?.();
    const limitSql = setTimeoutSql;
    const gated = <T>(pick: (pending: Pending) => PromiseLike<T>, admitted: Admitted = (task) => task()) =>
      // Through a pooler a statement reserves a connection for its own transaction.
      limitSql
        ? gate.runOnConnection(() =>
            admitted(() => withReconnect(() => ownTransaction(limitSql, query, params, queryOptions, pick))),
          )
        : gate.run(() =>
            admitted(() =>
              withReconnect(() =>
                pick(send(sql.unsafe(query, params as postgres.ParameterOrJSON<never>[], queryOptions))),
              ),
            ),
          );
    const run = <T>(pick: (pending: Pending) => PromiseLike<T>) =>
      observe ? observe(query, (admitted) => gated(pick, admitted)) : gated(pick);
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
    begin: (callback) => {
      onWrite?.();
      const gated = (admitted: Admitted = (task) => task()) =>
        gate.runOnConnection(() =>
          admitted(() =>
            withReconnect(() =>
              sql.begin((tx) => {
                // Sent ahead of the callback's first statement; a failure surfaces when the transaction ends.
                if (setTimeoutSql) tx.unsafe(setTimeoutSql).execute();
                return callback(named ? tx : oneRoundTripScope(tx));
              }),
            ),
          ),
        );
      return observe ? observe('begin', gated) : gated();
    },
  };

  return {
    sql,
    gate,
    client,
    ping: (timeoutMs = 1000) => timed(() => gate.run(() => withReconnect(() => sql`select 1`)), timeoutMs),
    async session() {
      // The permit stays taken while the session lives, so the gate never promises a connection it lacks.
      await gate.acquireConnection();
      try {
        let reserved = await sql.reserve();
        // Until a statement has run, a connection found dead is swapped for another: nothing of the session
        // reached the server yet. Later, its state (locks, settings) is gone with it, and the error stands.
        let fresh = true;
        const run = async <T>(text: string, params: unknown[]): Promise<T[]> => {
          for (let attempt = 0; ; attempt++) {
            try {
              const rows = await send(reserved.unsafe(text, params as postgres.ParameterOrJSON<never>[]));
              fresh = false;
              return rows as unknown as T[];
            } catch (error) {
              if (!fresh || !isNeverSent(error) || attempt >= pool.max) throw error;
              // Not released: the failed write closed it, and postgres.js has it among its closed ones.
              reserved = await sql.reserve();
            }
          }
        };
        return {
          query: <T>(text: string, params?: unknown[]) => run<T>(text, params ?? []),
          release: async () => {
            reserved.release();
            gate.releaseConnection();
          },
        };
      } catch (error) {
        gate.releaseConnection();
        throw error;
      }
    },
    // postgres.js waits out the whole timeout after a lost connection even with nothing in flight. Through a
    // pooler a new connection may still be loading its types, waiting for a server: ending it then would
    // reject that load where nobody listens. With no server to reach, a statement still held is only waiting
    // for postgres.js's next try to connect (seconds apart after a few refusals), which fails the same way.
    close: () => {
      unwatch?.();
      return sql.end({ timeout: (gate.active === 0 || unreachable) && !pooled ? 0 : 5 });
    },
  };
}

/** The statement_timeout a pooler's server connection starts with (role, database or server setting), in ms. */
const SERVER_TIMEOUT = `select setting::bigint as ms from pg_settings where name = 'statement_timeout'`;
const CHECK_AGAIN_MS = 5000;

/**
 * Through a transaction pooler, a role- or database-level statement_timeout reaches every server connection:
 * when it is set and no looser than DB_STATEMENT_TIMEOUT_MS, statements need no transaction of their own to
 * be bounded, and `holds()` is called. Otherwise a warning says how to set it. Returns the trigger each
 * statement calls: the first checks (in the background; statements keep their transaction until it answers),
 * and a check that could not run is tried again a few seconds later.
 */
function serverTimeoutCheck(
  sql: postgres.Sql,
  timeoutMs: number,
  holds: () => void,
  warn: (message: string) => void,
): () => void {
  let settled = false;
  let nextTry = 0;
  return () => {
    if (settled || performance.now() < nextTry) return;
    nextTry = performance.now() + CHECK_AGAIN_MS;
    sql.unsafe<{ ms: string }[]>(SERVER_TIMEOUT).then(
      ([row]) => {
        settled = true;
        const serverMs = Number(row?.ms ?? 0);
        if (serverMs > 0 && serverMs <= timeoutMs) return holds();
        warn(
          `warning: DATABASE_URL goes through a transaction pooler and the server's statement_timeout is ${
            serverMs > 0 ? `${serverMs} ms, above DB_STATEMENT_TIMEOUT_MS (${timeoutMs})` : 'not set'
          }: each statement runs in a transaction of its own to keep the bound, several times slower. ` +
            `Set it where every connection inherits it: alter role <app role> set statement_timeout = ${timeoutMs};`,
        );
      },
      () => {},
    );
  };
}

/**
 * Through a URL marked `?pgbouncer=true` (DB_PREPARE=false asks for unnamed statements outright), whether
 * the pooler keeps named statements, asked once at open on a connection of its own.
 */
function poolerNames(
  url: string,
  settings: PoolSettings,
  options: OpenDatabaseOptions<Record<string, unknown>>,
  applicationName: string,
): Promise<boolean> {
  const connection = serverConnection(url);
  const probe = postgres(connection.url, {
    ...transport(connection),
    max: 1,
    prepare: true,
    fetch_types: false,
    connect_timeout: settings.pool.connectTimeoutMs / 1000,
    connection: { application_name: `${applicationName}:pooler-check` },
    onnotice: () => {},
  });
  return poolerKeepsNamedStatements(probe, 2 * settings.pool.connectTimeoutMs, options.log ?? console.warn);
}

/**
 * The app's database on a server: the primary's pool; with DIRECT_DATABASE_URL, sessions on their own pool
 * there; with DATABASE_REPLICA_URLS, Drizzle's selects on replicas (see replicas.ts).
 */
export async function openServer<TSchema extends Record<string, unknown>>(
  url: string,
  settings: PoolSettings & Partial<Pick<Settings, 'directUrl' | 'prepare' | 'replicas'>>,
  options: OpenDatabaseOptions<TSchema>,
  logger: DrizzleLogger | undefined,
): Promise<DatabaseHandle<TSchema>> {
  const applicationName = options.applicationName ?? `groundwork:${settings.appName}`;
  const unprepared = settings.prepare === false;
  const replicaUrls = settings.replicas?.urls ?? [];
  const pooled = markedPooled(url) || unprepared;
  const named = !pooled || (!unprepared && (await poolerNames(url, settings, options, applicationName)));
  const primary = openPool(url, settings, options, {
    role: 'primary',
    pooled,
    named,
    applicationName,
    onWrite: replicaUrls.length > 0 ? markWritten : undefined,
  });
  const direct = settings.directUrl
    ? openPool(settings.directUrl, settings, options, {
        role: 'direct',
        pooled: false,
        named: true,
        applicationName,
      })
    : undefined;
  // A replica is bounded apart from the primary: a read that cannot reach one soon is the primary's.
  const replicaSettings = settings.replicas && {
    ...settings,
    pool: {
      ...settings.pool,
      connectTimeoutMs: settings.replicas.connectTimeoutMs,
      waitTimeoutMs: settings.replicas.waitTimeoutMs,
    },
  };
  const replicaPools = replicaUrls.map((replicaUrl, index) => {
    const replicaPooled = markedPooled(replicaUrl) || unprepared;
    return openPool(replicaUrl, replicaSettings ?? settings, options, {
      role: `replica-${index + 1}`,
      pooled: replicaPooled,
      named: !replicaPooled,
      applicationName,
      replicaOf: primary.sql,
    });
  });
  const drizzleOn = (client: DrizzleClient) =>
    drizzlePostgres(client as unknown as postgres.Sql, {
      schema: options.schema,
      logger,
    }) as unknown as Database<TSchema>;
  const primaryDb = drizzleOn(primary.client);
  // The replicas' health is checked on connections of its own, so a busy pool never delays the verdict.
  const monitor = (target: string) => {
    const connection = serverConnection(target);
    return postgres(connection.url, {
      ...transport(connection),
      max: 1,
      prepare: false,
      fetch_types: false,
      // Each check reconnects at once: postgres.js's growing delay would keep a returned replica "down".
      backoff: () => 0.05,
      connect_timeout: (settings.replicas?.connectTimeoutMs ?? 1000) / 1000,
      connection: { application_name: `${applicationName}:replica-monitor` },
      onnotice: () => {},
    });
  };
  const replicas =
    replicaPools.length > 0
      ? new ReplicaSet(monitor(url), replicaUrls.map(monitor), settings.replicas?.maxLagMs ?? 1000, () =>
          // A first primary connection loads the array types the replicas' connections use.
          primary.ping(5000).catch(() => {}),
        )
      : undefined;
  const db = replicas
    ? routedDatabase(
        primaryDb,
        drizzleOn(
          readClient(
            primary.client,
            replicaPools.map((pool) => pool.client),
            replicas,
          ),
        ),
      )
    : primaryDb;

  return {
    db,
    primary: primaryDb,
    engine: 'postgres',
    pooledSessions: pooled && !direct,
    ping: primary.ping,
    session: () => (direct ?? primary).session(),
    replicas: () => replicas?.statuses() ?? Promise.resolve([]),
    stats: () => ({
      engine: 'postgres',
      max: settings.pool.max,
      active: primary.gate.active,
      waiting: primary.gate.waiting,
    }),
    close: async () => {
      await replicas?.close();
      await Promise.all([primary, direct, ...replicaPools].map((pool) => pool?.close()));
    },
  };
}
