import { type ExportedMetric, PlainCounter, PlainGauge, PlainHistogram } from '../adapters/prom-metrics.ts';

/**
 * The process's Prometheus metrics (docs/operations.md lists each), as plain numbers: prom-client is loaded
 * only to write them out, at the first scrape (exposition.ts). One set per process, as Prometheus scrapes one
 * process per target; apps are told apart by the `app` label. Labels hold only bounded values: app names,
 * route templates, methods, status classes, statement kinds, pool roles. Never an id or a raw path.
 */

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequestDuration = new PlainHistogram<'app' | 'route' | 'method' | 'status_class'>(
  'groundwork_http_request_duration_seconds',
  'HTTP requests by app, route template, method and status class (2xx, 4xx, ...), from arrival to the last byte',
  SECONDS,
);

export const queryDuration = new PlainHistogram<'app' | 'pool' | 'operation'>(
  'groundwork_db_query_duration_seconds',
  'Database statements by app, pool and kind (select, insert, update, delete, with, transaction, other), once they hold a connection',
  SECONDS,
);

export const poolWaitTimeouts = new PlainCounter<'app' | 'pool'>(
  'groundwork_db_pool_wait_timeouts_total',
  'Statements refused after DB_POOL_WAIT_TIMEOUT_MS waiting for a connection (answered 503)',
);

export const rateLimitRefusals = new PlainCounter<'app' | 'route'>(
  'groundwork_rate_limit_refusals_total',
  'Requests refused with 429 by a rate limit',
);

export const loginFailures = new PlainCounter<'route'>(
  'groundwork_login_failures_total',
  'Password logins refused (unknown user or wrong password), by login route template',
);

export const migrationsApplied = new PlainCounter<'app' | 'direction'>(
  'groundwork_migrations_applied_total',
  'Migrations this process ran, by direction (up, down)',
);

export const migrationDuration = new PlainHistogram<'app' | 'direction'>(
  'groundwork_migration_duration_seconds',
  'How long each migration this process ran took, lock retries included',
  [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
);

/** Requests in flight by app: counts a request adds to and takes from, read when scraped. */
const inFlight = new Map<string, { count: number }>();

/** The in-flight count of `app`, to keep and change (`count++`, `count--`). */
export function inFlightOf(app: string): { count: number } {
  let counter = inFlight.get(app);
  if (!counter) {
    counter = { count: 0 };
    inFlight.set(app, counter);
  }
  return counter;
}

/** What the pool gauges read at scrape time: a live pool's gate. */
export interface PoolGauge {
  app: string;
  /** `primary`, `direct`, or `replica-<n>` (its position in DATABASE_REPLICA_URLS, from 1). */
  pool: string;
  size: number;
  readonly inUse: number;
  readonly waiting: number;
}

const pools = new Set<PoolGauge>();

/** Adds an open pool to the gauges; the returned function removes it when the pool closes. */
export function watchPool(pool: PoolGauge): () => void {
  pools.add(pool);
  return () => pools.delete(pool);
}

/** Every open pool's `read`, pools sharing labels added up. */
function poolValues(read: (pool: PoolGauge) => number): { labels: Record<string, string>; value: number }[] {
  const sums = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const pool of pools) {
    const key = `${pool.app}\n${pool.pool}`;
    const entry = sums.get(key) ?? { labels: { app: pool.app, pool: pool.pool }, value: 0 };
    entry.value += read(pool);
    sums.set(key, entry);
  }
  return [...sums.values()];
}

/** Every metric above, for the registry the first scrape builds. */
export const METRICS: readonly ExportedMetric[] = [
  httpRequestDuration,
  new PlainGauge('groundwork_http_requests_in_flight', 'HTTP requests received and not yet answered', () =>
    [...inFlight].map(([app, counter]) => ({ labels: { app }, value: counter.count })),
  ),
  new PlainGauge('groundwork_db_pool_size', 'Connections the pool may open (DB_POOL_MAX)', () =>
    poolValues((pool) => pool.size),
  ),
  new PlainGauge(
    'groundwork_db_pool_in_use',
    'Connections busy with a statement, a transaction or a session',
    () => poolValues((pool) => pool.inUse),
  ),
  new PlainGauge('groundwork_db_pool_waiting', 'Statements and sessions waiting for a connection', () =>
    poolValues((pool) => pool.waiting),
  ),
  queryDuration,
  poolWaitTimeouts,
  rateLimitRefusals,
  loginFailures,
  migrationsApplied,
  migrationDuration,
];

const STATEMENT_KIND = /^\s*(select|insert|update|delete|with|begin)\b/i;

/** A statement's kind from its first word: a bounded label, never the text. */
export function operationOf(query: string): string {
  const word = STATEMENT_KIND.exec(query)?.[1]?.toLowerCase();
  if (word === 'begin') return 'transaction';
  return word ?? 'other';
}

/** Counts the migrations a run applied or reverted, each with its duration (the runner's RunResult). */
export function countMigrations(app: string, run: { direction: string; steps: { ms: number }[] }): void {
  for (const step of run.steps) {
    migrationsApplied.inc({ app, direction: run.direction });
    migrationDuration.series({ app, direction: run.direction }).observe(step.ms / 1000);
  }
}
