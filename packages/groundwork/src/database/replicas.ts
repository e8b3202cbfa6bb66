import { withReplicas } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import { databaseErrorOf, isUnavailable, POOL_TIMEOUT } from './connection-errors.ts';
import { type Database, PingTimeoutError } from './open.ts';
import type { DrizzleClient } from './postgres.ts';
import { readsPrimary } from './read-your-writes.ts';

/**
 * Read replicas (DATABASE_REPLICA_URLS). Drizzle's withReplicas sends `select`, `$count` and relational
 * queries to the read client, which runs each on a healthy replica, round-robin; writes, raw `execute`,
 * transactions, and the reads of a request that has written or changes things go to the primary. A monitor compares each replica's replay position
 * with the primary's WAL position a few times a second: a replica that is down or lags more than
 * DB_REPLICA_MAX_LAG_MS is skipped until a check finds it back. A read a replica fails to serve, or cannot
 * reach within DB_REPLICA_CONNECT_TIMEOUT_MS and DB_REPLICA_WAIT_TIMEOUT_MS, or waits on when it is found down,
 * is run on the primary instead.
 */

export interface ReplicaStatus {
  /** replica1, replica2... in DATABASE_REPLICA_URLS order: a public report never names hosts. */
  name: string;
  state: 'ok' | 'lagging' | 'down' | 'unknown';
  /** How far its replay was behind the primary at the last check, in ms; null when not known. */
  lagMs: number | null;
  /** Why it is down: an error code, never a host or a message. */
  error?: string;
}

/** Standby answers the primary would not give: a statement that writes, a read cancelled by replay. */
const STANDBY_REFUSALS = new Set(['25006', '40001']);

/** The replica could not run the read; a slow query (57014) would be as slow on the primary. */
function primaryCanServe(error: unknown): boolean {
  const code = databaseErrorOf(error)?.code ?? '';
  return STANDBY_REFUSALS.has(code) || (isUnavailable(error) && code !== '57014');
}

/** The replica a read waits on went down (the monitor or another read found it so): the primary serves it. */
class ReplicaDownError extends Error {
  readonly code = 'GW_REPLICA_DOWN';
}

/**
 * The replica's answer, or a ReplicaDownError as soon as the replica is marked down: a replica that stops
 * answering holds a read no longer than it takes to find it down. An abandoned statement keeps its place in
 * the replica's pool until the replica answers or its connection fails.
 */
function unlessDown<T>(replicas: ReplicaSet, index: number, read: PromiseLike<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = replicas.onDown(index, () => reject(new ReplicaDownError()));
    read.then(
      (value) => {
        stop();
        resolve(value);
      },
      (error: unknown) => {
        stop();
        reject(error);
      },
    );
  });
}

/**
 * Drizzle's client for reads. Each statement chooses when it runs, not when its query is built, so a query
 * prepared once (`.prepare()`) is routed afresh at every call: to the replica `replicas.pick()` names, or to the
 * primary. A read the replica cannot serve runs on the primary, and a replica gone is marked down at once.
 */
export function readClient(
  primary: DrizzleClient,
  replicaClients: DrizzleClient[],
  replicas: ReplicaSet,
): DrizzleClient {
  const unsafe: DrizzleClient['unsafe'] = (query, params, options) => {
    const run = async <T>(on: (client: DrizzleClient) => PromiseLike<T>): Promise<T> => {
      const index = replicas.pick();
      if (index === undefined) return on(primary);
      try {
        return await unlessDown(replicas, index, on(replicaClients[index]!));
      } catch (error) {
        if (error instanceof ReplicaDownError) return on(primary);
        if (!primaryCanServe(error)) throw error;
        // A full replica pool is load, not a replica gone: the primary takes this read, the replica the next.
        if (isUnavailable(error) && databaseErrorOf(error)?.code !== POOL_TIMEOUT)
          replicas.markDown(index, error);
        return on(primary);
      }
    };
    return {
      // biome-ignore lint/suspicious/noThenProperty: Drizzle awaits this object like postgres.js's PendingQuery.
      then: <R1, R2>(
        resolve?: (rows: postgres.Row[]) => R1 | PromiseLike<R1>,
        reject?: (error: unknown) => R2 | PromiseLike<R2>,
      ) => run((client) => client.unsafe(query, params, options)).then(resolve, reject),
      values: () => run((client) => client.unsafe(query, params, options).values()),
    };
  };
  return { options: primary.options, unsafe, begin: primary.begin };
}

/** Drizzle's withReplicas with `reads` as its one replica; `with(...)` stays on the primary: it may lead to a write. */
export function routedDatabase<TSchema extends Record<string, unknown>>(
  primary: Database<TSchema>,
  reads: Database<TSchema>,
): Database<TSchema> {
  const db = withReplicas(primary, [reads], () => reads);
  return Object.assign(db, { with: primary.with.bind(primary) }) as unknown as Database<TSchema>;
}

const PRIMARY_POSITION = `select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as lsn`;
/** Null on a server that is not in recovery (a promoted replica, or a wrong URL). */
const REPLAY_POSITION = `select pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::text as lsn`;

interface Replica {
  /** The monitor's connection. */
  sql: postgres.Sql;
  status: ReplicaStatus;
  /** Reads waiting on the replica, told when it goes down. */
  onDown: Set<() => void>;
}

interface Position {
  lsn: bigint;
  /** When the monitor first saw the primary there (performance.now()); -Infinity for the first position. */
  at: number;
}

function within<T>(work: PromiseLike<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PingTimeoutError(timeoutMs)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The replicas' health. Lag is time, measured against the primary: the monitor records when it first saw the
 * primary's WAL reach each position, and a replica that has not replayed a position is at least as far behind
 * as that position is old. This holds when the primary is idle (a replica that has replayed everything is
 * not lagging however old its last transaction) and when a replica stops receiving WAL (its replay position
 * stands still while the primary's moves on), which a replica-side measure misses.
 */
export class ReplicaSet {
  readonly #primary: postgres.Sql;
  readonly #replicas: Replica[];
  readonly #maxLagMs: number;
  readonly #intervalMs: number;
  /** Oldest first; the first is undated: WAL it holds may be of any age. */
  #positions: Position[] = [];
  #turn = 0;
  #timer: NodeJS.Timeout | undefined;
  #firstCheck: Promise<void> | undefined;
  #closed = false;

  readonly #beforeFirstCheck: () => Promise<unknown>;

  /**
   * `primary` and `replicas` are the monitor's own connections (one each), closed with the set;
   * `beforeFirstCheck` runs once before any replica may serve.
   */
  constructor(
    primary: postgres.Sql,
    replicas: postgres.Sql[],
    maxLagMs: number,
    beforeFirstCheck: () => Promise<unknown>,
  ) {
    this.#beforeFirstCheck = beforeFirstCheck;
    this.#primary = primary;
    this.#replicas = replicas.map((sql, index) => ({
      sql,
      status: { name: `replica${index + 1}`, state: 'unknown', lagMs: null },
      onDown: new Set(),
    }));
    this.#maxLagMs = maxLagMs;
    // Lag is known to within one interval: a quarter of the allowed lag, within [50 ms, 1 s].
    this.#intervalMs = Math.min(1000, Math.max(50, Math.floor(maxLagMs / 4)));
  }

  /** The replica for the next read, or undefined for the primary. Starts the monitor on first use. */
  pick(): number | undefined {
    this.#start();
    if (readsPrimary()) return undefined;
    const count = this.#replicas.length;
    for (let step = 0; step < count; step++) {
      const index = (this.#turn + step) % count;
      if (this.#replicas[index]!.status.state === 'ok') {
        this.#turn = index + 1;
        return index;
      }
    }
    return undefined;
  }

  /** A read found the replica gone: skip it now rather than at the next check. */
  markDown(index: number, error: unknown): void {
    const replica = this.#replicas[index]!;
    this.#setStatus(replica, {
      ...replica.status,
      state: 'down',
      error: databaseErrorOf(error)?.code ?? 'error',
    });
  }

  /** Calls `listener` once if the replica is marked down before the returned function is called. */
  onDown(index: number, listener: () => void): () => void {
    const listeners = this.#replicas[index]!.onDown;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  #setStatus(replica: Replica, status: ReplicaStatus): void {
    replica.status = status;
    if (status.state !== 'down') return;
    const listeners = [...replica.onDown];
    replica.onDown.clear();
    for (const listener of listeners) listener();
  }

  /** Each replica's state at the last check; `unknown` while a first check takes longer than a second. */
  async statuses(): Promise<ReplicaStatus[]> {
    this.#start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#firstCheck, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
    return this.#replicas.map((replica) => replica.status);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#firstCheck;
    await Promise.all(
      [this.#primary, ...this.#replicas.map((r) => r.sql)].map((sql) => sql.end({ timeout: 0 })),
    );
  }

  #start(): void {
    if (!this.#firstCheck && !this.#closed) {
      this.#firstCheck = this.#beforeFirstCheck().then(() => this.#check());
    }
  }

  async #check(): Promise<void> {
    const timeoutMs = Math.max(1000, this.#intervalMs);
    try {
      const [row] = await within(this.#primary.unsafe<{ lsn: string }[]>(PRIMARY_POSITION), timeoutMs);
      this.#record(BigInt(row!.lsn), performance.now());
    } catch {
      // Primary unreachable: replicas are compared with the last position seen.
    }
    await Promise.all(
      this.#replicas.map(async (replica) => {
        const { name } = replica.status;
        const checkedAt = performance.now();
        try {
          const [row] = await within(
            replica.sql.unsafe<{ lsn: string | null }[]>(REPLAY_POSITION),
            timeoutMs,
          );
          if (row?.lsn == null) {
            this.#setStatus(replica, { name, state: 'down', lagMs: null, error: 'not_in_recovery' });
            return;
          }
          const lagMs = this.#lagOf(BigInt(row.lsn), checkedAt);
          this.#setStatus(replica, {
            name,
            state: lagMs > this.#maxLagMs ? 'lagging' : 'ok',
            lagMs: Number.isFinite(lagMs) ? lagMs : null,
          });
        } catch (error) {
          this.#setStatus(replica, {
            name,
            state: 'down',
            lagMs: null,
            error: databaseErrorOf(error)?.code ?? 'error',
          });
        }
      }),
    );
    if (!this.#closed) this.#timer = setTimeout(() => void this.#check(), this.#intervalMs).unref();
  }

  /** Keeps the first time each position was seen, for a window well beyond the allowed lag. */
  #record(lsn: bigint, at: number): void {
    const last = this.#positions.at(-1);
    if (last && lsn <= last.lsn) return;
    this.#positions.push({ lsn, at: last ? at : Number.NEGATIVE_INFINITY });
    const horizon = at - Math.max(10_000, this.#maxLagMs * 4);
    // Older positions go, but never the undated first nor the newest: both still date a stuck replica.
    this.#positions = this.#positions.filter(
      (position, index) =>
        position.at === Number.NEGATIVE_INFINITY ||
        position.at >= horizon ||
        index === this.#positions.length - 1,
    );
  }

  #lagOf(replayed: bigint, at: number): number {
    const missing = this.#positions.find((position) => position.lsn > replayed);
    return missing ? Math.max(0, Math.round(at - missing.at)) : 0;
  }
}
