import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../adapters/prom-histogram.ts';

/**
 * The process's Prometheus metrics (docs/operations.md lists each). One registry per process, as Prometheus
 * scrapes one process per target; apps are told apart by the `app` label. Labels hold only bounded values:
 * app names, route templates, methods, status classes, statement kinds, pool roles. Never an id or a raw path.
 */
export const registry = new Registry();

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// Observed per request and per statement: series looked up once, then a few additions (see the adapter).
export const httpRequestDuration = new FastHistogram<'app' | 'route' | 'method' | 'status_class'>({
  name: 'groundwork_http_request_duration_seconds',
  help: 'HTTP requests by app, route template, method and status class (2xx, 4xx, ...), from arrival to the last byte',
  buckets: SECONDS,
  registers: [registry],
});

export const queryDuration = new FastHistogram<'app' | 'pool' | 'operation'>({
  name: 'groundwork_db_query_duration_seconds',
  help: 'Database statements by app, pool and kind (select, insert, update, delete, with, transaction, other), once they hold a connection',
  buckets: SECONDS,
  registers: [registry],
});

/** Requests in flight by app: plain counts a request adds to and takes from, read when scraped. */
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

new Gauge({
  name: 'groundwork_http_requests_in_flight',
  help: 'HTTP requests received and not yet answered',
  labelNames: ['app'] as const,
  registers: [registry],
  collect() {
    for (const [app, counter] of inFlight) this.set({ app }, counter.count);
  },
});

export const poolWaitTimeouts = new Counter({
  name: 'groundwork_db_pool_wait_timeouts_total',
  help: 'Statements refused after DB_POOL_WAIT_TIMEOUT_MS waiting for a connection (answered 503)',
  labelNames: ['app', 'pool'] as const,
  registers: [registry],
});

export const rateLimitRefusals = new Counter({
  name: 'groundwork_rate_limit_refusals_total',
  help: 'Requests refused with 429 by a rate limit',
  labelNames: ['app', 'route'] as const,
  registers: [registry],
});

export const loginFailures = new Counter({
  name: 'groundwork_login_failures_total',
  help: 'Password logins refused (unknown user or wrong password), by login route template',
  labelNames: ['route'] as const,
  registers: [registry],
});

export const migrationsApplied = new Counter({
  name: 'groundwork_migrations_applied_total',
  help: 'Migrations this process ran, by direction (up, down)',
  labelNames: ['app', 'direction'] as const,
  registers: [registry],
});

export const migrationDuration = new Histogram({
  name: 'groundwork_migration_duration_seconds',
  help: 'How long each migration this process ran took, lock retries included',
  labelNames: ['app', 'direction'] as const,
  buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
  registers: [registry],
});

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

/** Reads every open pool when scraped, so a statement pays nothing for these; pools sharing labels add up. */
function poolGauge(name: string, help: string, read: (pool: PoolGauge) => number): void {
  new Gauge({
    name,
    help,
    labelNames: ['app', 'pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of pools) this.inc({ app: pool.app, pool: pool.pool }, read(pool));
    },
  });
}

poolGauge('groundwork_db_pool_size', 'Connections the pool may open (DB_POOL_MAX)', (pool) => pool.size);
poolGauge(
  'groundwork_db_pool_in_use',
  'Connections busy with a statement, a transaction or a session',
  (pool) => pool.inUse,
);
poolGauge(
  'groundwork_db_pool_waiting',
  'Statements and sessions waiting for a connection',
  (pool) => pool.waiting,
);

/** Adds an open pool to the gauges; the returned function removes it when the pool closes. */
export function watchPool(pool: PoolGauge): () => void {
  pools.add(pool);
  return () => pools.delete(pool);
}

const STATEMENT_KIND = /^\s*(select|insert|update|delete|with|begin)\b/i;

/** A statement's kind from its first word: a bounded label, never the text. */
export function operationOf(query: string): string {
  const word = STATEMENT_KIND.exec(query)?.[1]?.toLowerCase();
  if (word === 'begin') return 'transaction';
  return word ?? 'other';
}

let processMetrics = false;

/** Node's process metrics (CPU, memory, event loop lag, GC), collected from the first server that serves metrics. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

/** Counts the migrations a run applied or reverted, each with its duration (the runner's RunResult). */
export function countMigrations(app: string, run: { direction: string; steps: { ms: number }[] }): void {
  for (const step of run.steps) {
    migrationsApplied.inc({ app, direction: run.direction });
    migrationDuration.observe({ app, direction: run.direction }, step.ms / 1000);
  }
}
