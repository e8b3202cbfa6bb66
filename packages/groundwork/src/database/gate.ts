import { POOL_TIMEOUT } from './connection-errors.ts';

export class PoolTimeoutError extends Error {
  readonly code = POOL_TIMEOUT;
  constructor(waitTimeoutMs: number) {
    super(`timed out after ${waitTimeoutMs} ms waiting for a database connection (pool exhausted)`);
    this.name = 'PoolTimeoutError';
  }
}

interface Waiter {
  places: number;
  grant(): void;
  fail(error: Error): void;
  deadline: number;
}

/**
 * Bounds how long a caller waits for the pool. postgres.js queues without limit when every connection is busy;
 * under overload that turns into requests hanging until the client gives up. The gate admits at most
 * `statementsPerConnection` statements per connection and fails a waiter after `waitTimeoutMs`.
 *
 * Two statements per connection, not one: postgres.js then pipelines a second statement behind the first and
 * writes and reads both in one system call each, which served more requests per second under concurrent
 * GETs; four added nothing measurable (docs/performance.md, two statements per pooled connection). The price is that a statement may
 * wait behind one other on its connection (bounded by statement_timeout). A session or
 * transaction holds a whole connection, so it takes all of that connection's places.
 */
export class ConnectionGate {
  /** Places taken: one per statement, `statementsPerConnection` per session. */
  #taken = 0;
  #holders = 0;
  /** First in, first out; with one timeout for all, the first also has the earliest deadline. */
  readonly #waiters: Waiter[] = [];
  /** One timer for the whole queue, armed for its head's deadline: no timer per waiter. */
  #timer: NodeJS.Timeout | undefined;

  readonly size: number;
  readonly waitTimeoutMs: number;
  readonly statementsPerConnection: number;
  readonly #places: number;

  constructor(size: number, waitTimeoutMs: number, statementsPerConnection = 2) {
    this.size = size;
    this.waitTimeoutMs = waitTimeoutMs;
    this.statementsPerConnection = statementsPerConnection;
    this.#places = size * statementsPerConnection;
  }

  /** Statements and sessions holding a place now. */
  get active(): number {
    return this.#holders;
  }

  /** Connections busy: places taken, rounded up to whole connections. */
  get connectionsInUse(): number {
    return Math.ceil(this.#taken / this.statementsPerConnection);
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** One statement. Happy path: a counter and the task; only a full gate waits. */
  run<T>(task: () => PromiseLike<T>): Promise<T> {
    return this.#hold(task, 1);
  }

  /** A transaction's or a reserved connection's task: it holds a whole connection while it runs. */
  runOnConnection<T>(task: () => PromiseLike<T>): Promise<T> {
    return this.#hold(task, this.statementsPerConnection);
  }

  /** A whole connection for a session; every successful acquire is paired with one `releaseConnection()`. */
  acquireConnection(): Promise<void> {
    return this.#acquire(this.statementsPerConnection);
  }

  releaseConnection(): void {
    this.#release(this.statementsPerConnection);
  }

  async #hold<T>(task: () => PromiseLike<T>, places: number): Promise<T> {
    // Awaited only when full: a resolved promise would still cost the happy path a microtask turn.
    if (!this.#take(places)) await this.#wait(places);
    try {
      return await task();
    } finally {
      this.#release(places);
    }
  }

  #acquire(places: number): Promise<void> {
    return this.#take(places) ? Promise.resolve() : this.#wait(places);
  }

  /** Takes the places now if they are free and nobody waits before us. */
  #take(places: number): boolean {
    if (this.#waiters.length || this.#taken + places > this.#places) return false;
    this.#taken += places;
    this.#holders++;
    return true;
  }

  #wait(places: number): Promise<void> {
    return new Promise((grant, fail) => {
      this.#waiters.push({ places, grant, fail, deadline: performance.now() + this.waitTimeoutMs });
      if (!this.#timer) this.#arm();
    });
  }

  #release(places: number): void {
    this.#taken -= places;
    this.#holders--;
    this.#admitWaiters();
  }

  #admitWaiters(): void {
    // In order: a session waiting for a whole connection is not overtaken by the statements behind it.
    while (this.#waiters.length && this.#taken + this.#waiters[0]!.places <= this.#places) {
      const next = this.#waiters.shift()!;
      this.#taken += next.places;
      this.#holders++;
      next.grant();
    }
    // An idle queue keeps no timer (nor the process alive).
    if (!this.#waiters.length && this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(): void {
    const head = this.#waiters[0];
    this.#timer = head
      ? setTimeout(() => this.#expire(), Math.max(0, head.deadline - performance.now()))
      : undefined;
  }

  #expire(): void {
    const now = performance.now();
    while (this.#waiters.length && this.#waiters[0]!.deadline <= now) {
      this.#waiters.shift()!.fail(new PoolTimeoutError(this.waitTimeoutMs));
    }
    // A session that timed out may have been holding back statements that fit.
    this.#admitWaiters();
    if (this.#waiters.length) this.#arm();
  }
}
