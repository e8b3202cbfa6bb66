import { POOL_TIMEOUT } from './connection-errors.ts';

/**
 * Bounds how long a caller waits for one of the pool's connections. postgres.js queues without limit when
 * every connection is busy; under overload that turns into requests hanging until the client gives up.
 * The gate hands out as many permits as the pool has connections and fails a waiter after `waitTimeoutMs`.
 */
export class PoolTimeoutError extends Error {
  readonly code = POOL_TIMEOUT;
  constructor(waitTimeoutMs: number) {
    super(`timed out after ${waitTimeoutMs} ms waiting for a database connection (pool exhausted)`);
    this.name = 'PoolTimeoutError';
  }
}

interface Waiter {
  grant(): void;
  fail(error: Error): void;
  deadline: number;
}

export class ConnectionGate {
  #active = 0;
  /** First in, first out; with one timeout for all, the first also has the earliest deadline. */
  readonly #waiters: Waiter[] = [];
  /** One timer for the whole queue, armed for its head's deadline: no timer per waiter. */
  #timer: NodeJS.Timeout | undefined;

  readonly size: number;
  readonly waitTimeoutMs: number;

  constructor(size: number, waitTimeoutMs: number) {
    this.size = size;
    this.waitTimeoutMs = waitTimeoutMs;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Happy path: a counter and the task; only a full pool waits. */
  async run<T>(task: () => PromiseLike<T>): Promise<T> {
    if (this.#active < this.size) this.#active++;
    else await this.#wait();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Waits for a permit; every successful acquire must be paired with one `release()`. */
  acquire(): Promise<void> {
    if (this.#active < this.size) {
      this.#active++;
      return Promise.resolve();
    }
    return this.#wait();
  }

  release(): void {
    const next = this.#waiters.shift();
    if (!next) {
      this.#active--;
      return;
    }
    // An idle queue keeps no timer (nor the process alive).
    if (!this.#waiters.length) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    // The permit passes straight to the next waiter: the count stays as it is.
    next.grant();
  }

  #wait(): Promise<void> {
    return new Promise((grant, fail) => {
      this.#waiters.push({ grant, fail, deadline: performance.now() + this.waitTimeoutMs });
      if (!this.#timer) this.#arm();
    });
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
    this.#arm();
  }
}
