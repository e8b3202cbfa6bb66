import type { MigrationSettings } from '../config.ts';
import type { DatabaseHandle, SqlSession } from '../database/open.ts';
import { redactSecrets } from '../redact.ts';

/** SQLSTATE lock_not_available: lock_timeout expired (or a NOWAIT lock was refused). */
const LOCK_NOT_AVAILABLE = '55P03';
const MAX_RETRY_DELAY_MS = 30_000;

export function isLockTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === LOCK_NOT_AVAILABLE;
}

/**
 * The wait before retry number `retry` (1 for the first): the base delay doubled each retry, capped at 30 s
 * (or the base, when larger), then between half and all of that at random, so retries do not fall into step
 * with a job that takes the same lock periodically.
 */
export function retryDelayMs(retry: number, baseMs: number, random: () => number = Math.random): number {
  const full = Math.min(Math.max(baseMs, MAX_RETRY_DELAY_MS), baseMs * 2 ** (retry - 1));
  return Math.round(full / 2 + random() * (full / 2));
}

/** The session settings a migration's statements run under; the values are validated integers. */
export function timeoutStatements(settings: MigrationSettings): string[] {
  return [
    `set lock_timeout = '${settings.lockTimeoutMs}ms'`,
    `set statement_timeout = '${settings.statementTimeoutMs}ms'`,
  ];
}

/** Thrown by `withLockRetries` when every attempt ended on a lock timeout. */
export class LockRetriesExhausted extends Error {
  /** The error of the last attempt. */
  readonly last: unknown;
  readonly attempts: number;
  readonly elapsedMs: number;

  constructor(last: unknown, attempts: number, elapsedMs: number) {
    super(`gave up after ${attempts} lock timeouts`);
    this.name = 'LockRetriesExhausted';
    this.last = last;
    this.attempts = attempts;
    this.elapsedMs = elapsedMs;
  }
}

export interface LockRetry {
  /** The lock timeout error that ended the previous attempt. */
  error: unknown;
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
}

/**
 * Runs `attempt` until it succeeds, fails on anything but a lock timeout (thrown as is), or has met the lock
 * timeout 1 + lockRetries times (LockRetriesExhausted). `attempt` must leave nothing behind when it fails:
 * a transaction rolled back, or one statement that either ran or did not.
 */
export async function withLockRetries<T>(
  settings: Pick<MigrationSettings, 'lockRetries' | 'lockRetryDelayMs'>,
  attempt: () => Promise<T>,
  onRetry: (retry: LockRetry) => void,
): Promise<{ value: T; retries: number }> {
  const started = performance.now();
  for (let retries = 0; ; retries++) {
    try {
      return { value: await attempt(), retries };
    } catch (error) {
      if (!isLockTimeout(error)) throw error;
      if (retries >= settings.lockRetries) {
        throw new LockRetriesExhausted(error, retries + 1, Math.round(performance.now() - started));
      }
      const delayMs = retryDelayMs(retries + 1, settings.lockRetryDelayMs);
      onRetry({ error, retry: retries + 1, delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** A session that held a lock the migration waited for, as pg_stat_activity showed it. */
export interface BlockingSession {
  pid: number;
  applicationName: string;
  /** active, idle in transaction, ...; null when the role may not see it. */
  state: string | null;
  /** How long its transaction had been open; null outside a transaction. */
  transactionMs: number | null;
  /** Its current or last statement, string literals masked, secrets redacted, truncated; null when hidden. */
  query: string | null;
}

/**
 * The sessions `pg_blocking_pids` names for a backend waiting on a lock (and only while it waits: the
 * function takes the lock manager's locks, so it is not called for a backend that is merely busy).
 */
const BLOCKERS = `
select b.pid, b.application_name, b.state, b.query,
       extract(epoch from clock_timestamp() - b.xact_start)::float8 * 1000 as transaction_ms
  from pg_stat_activity w
  cross join lateral unnest(case when w.wait_event_type = 'Lock' then pg_blocking_pids(w.pid) end) as blocking(pid)
  join pg_stat_activity b on b.pid = blocking.pid
 where w.pid = $1
 order by b.xact_start nulls last, b.pid`;

const QUERY_LENGTH = 200;
const STRING_LITERAL = /'(?:[^']|'')*'/g;
const DOLLAR_QUOTED = /\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$/g;

/** A statement fit for an error message: literals masked (they may hold anyone's data), secrets redacted. */
function maskedQuery(query: string): string {
  const masked = redactSecrets(
    query.replace(DOLLAR_QUOTED, '$$***$$').replace(STRING_LITERAL, "'***'").replace(/\s+/g, ' ').trim(),
  );
  return masked.length > QUERY_LENGTH ? `${masked.slice(0, QUERY_LENGTH - 3)}...` : masked;
}

/**
 * Watches, from a second session, what blocks the migration's backend while one of its statements runs.
 * A statement canceled by lock_timeout no longer waits, so its blockers must be seen before the timeout
 * fires: the watch looks every third of the lock timeout while a statement runs, and keeps the last
 * sessions it saw blocking it.
 */
export class BlockerWatch {
  /** The second session, taken for the whole run so that a look never waits for the pool. */
  private readonly lookout: SqlSession | undefined;
  private readonly pid: number;
  private readonly intervalMs: number;
  /** Why the blockers cannot be seen. */
  private unavailable: string | undefined;
  private looking: Promise<void> | undefined;
  /** The blockers seen during the last `during` call. */
  private seen: BlockingSession[] = [];

  private constructor(watch: {
    lookout?: SqlSession;
    pid?: number;
    intervalMs?: number;
    unavailable?: string;
  }) {
    this.lookout = watch.lookout;
    this.pid = watch.pid ?? 0;
    this.intervalMs = watch.intervalMs ?? 0;
    this.unavailable = watch.unavailable;
  }

  /**
   * A watch on the migration session `session`. It looks at nothing on PGlite (a single connection: no
   * other session can hold a lock), without a lock timeout, or in a one-connection pool (none to spare).
   */
  static async start(
    handle: DatabaseHandle,
    session: SqlSession,
    lockTimeoutMs: number,
  ): Promise<BlockerWatch> {
    const unavailable =
      handle.engine !== 'postgres'
        ? 'an embedded database has one connection'
        : lockTimeoutMs === 0
          ? 'no lock timeout is set'
          : handle.stats().max < 2
            ? 'the blocking sessions are looked up from a second connection, and the pool has one (DB_POOL_MAX=1)'
            : undefined;
    if (unavailable) return new BlockerWatch({ unavailable });
    const [row] = await session.query<{ pid: number }>('select pg_backend_pid() as pid');
    try {
      return new BlockerWatch({
        lookout: await handle.session(),
        pid: Number(row!.pid),
        intervalMs: Math.max(10, Math.floor(lockTimeoutMs / 3)),
      });
    } catch (error) {
      return new BlockerWatch({ unavailable: lookupFailed(error) });
    }
  }

  /** Runs `statement`, looking at what blocks it until it settles. */
  async during<T>(statement: () => Promise<T>): Promise<T> {
    this.seen = [];
    if (this.unavailable) return statement();
    const timer = setInterval(() => {
      this.looking ??= this.look().finally(() => {
        this.looking = undefined;
      });
    }, this.intervalMs);
    try {
      return await statement();
    } finally {
      clearInterval(timer);
      await this.looking;
    }
  }

  /** The blockers seen during the last statement, or why they could not be. */
  report(): BlockingSession[] | string {
    if (this.seen.length > 0) return this.seen;
    return this.unavailable ?? 'no session was seen holding the lock (it may have been let go meanwhile)';
  }

  private async look(): Promise<void> {
    if (this.unavailable || !this.lookout) return;
    try {
      const rows = await this.lookout.query<{
        pid: number;
        application_name: string | null;
        state: string | null;
        query: string | null;
        transaction_ms: number | null;
      }>(BLOCKERS, [this.pid]);
      if (rows.length === 0) return;
      this.seen = rows.map((row) => ({
        pid: Number(row.pid),
        applicationName: row.application_name ?? '',
        state: row.state,
        transactionMs: row.transaction_ms === null ? null : Math.round(Number(row.transaction_ms)),
        query: row.query === null ? null : maskedQuery(row.query),
      }));
    } catch (error) {
      this.unavailable = lookupFailed(error);
    }
  }

  async close(): Promise<void> {
    await this.lookout?.release();
  }
}

const lookupFailed = (error: unknown) =>
  `the blocking sessions could not be looked up (${redactSecrets((error as Error).message)})`;

/** One line per blocking session, for an error message or a log line. */
export function describeBlockers(blockers: BlockingSession[] | string): string {
  if (typeof blockers === 'string') return `  (${blockers})`;
  return blockers
    .map((b) => {
      const open =
        b.transactionMs === null ? 'no transaction open' : `transaction open ${seconds(b.transactionMs)}`;
      const query = b.query === null ? 'query hidden from this role' : `last query: ${b.query}`;
      return `  pid ${b.pid} (application_name "${b.applicationName}", ${b.state ?? 'state hidden'}, ${open}): ${query}`;
    })
    .join('\n');
}

/** A short name for the first blocker, for a retry's log line. */
export function firstBlocker(blockers: BlockingSession[] | string): string {
  if (typeof blockers === 'string' || blockers.length === 0) return 'an unseen session';
  const [b] = blockers;
  const more = blockers.length > 1 ? ` and ${blockers.length - 1} more` : '';
  return `pid ${b!.pid} ("${b!.applicationName}", ${b!.state ?? 'state hidden'})${more}`;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
