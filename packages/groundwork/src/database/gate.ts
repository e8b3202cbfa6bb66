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

export class ConnectionGate {
  #active = 0;
  readonly #waiters: Array<() => void> = [];

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

  async run<T>(task: () => PromiseLike<T>): Promise<T> {
    await this.acquire();
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
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        this.#active++;
        resolve();
      };
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(grant);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new PoolTimeoutError(this.waitTimeoutMs));
      }, this.waitTimeoutMs);
      this.#waiters.push(grant);
    });
  }

  release(): void {
    this.#active--;
    this.#waiters.shift()?.();
  }
}
