import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Read-your-writes, per request. A request runs in a scope; the primary's client marks it at its first
 * statement that may write (anything but a plain select) or transaction, and from then on its reads go to the
 * primary. A request that changes things (any method but GET and HEAD) reads the primary from the start, as
 * Rails does: what it checks before writing (a login, a uniqueness rule) must not be stale. Another request
 * may still read a replica up to DB_REPLICA_MAX_LAG_MS behind.
 */
const requests = new AsyncLocalStorage<{ primary: boolean }>();

export function markWritten(): void {
  const scope = requests.getStore();
  if (scope) scope.primary = true;
}

/** Runs `work` as one request: reads after its first write go to the primary (jobs and scripts use it too). */
export function readYourWrites<T>(work: () => T, primary = false): T {
  return requests.run({ primary }, work);
}

/** Whether the current request (or `readYourWrites` scope) reads the primary from now on. */
export function readsPrimary(): boolean {
  return requests.getStore()?.primary === true;
}
