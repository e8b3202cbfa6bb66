import { AsyncLocalStorage } from 'node:async_hooks';
import type { AppServer } from '../app.ts';

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

const READING_METHODS = new Set(['GET', 'HEAD']);

/** Every route handler registered after this on `app` runs in a read-your-writes scope of its own. */
export function readYourWritesPerRequest(app: AppServer): void {
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function scoped(this: unknown, request, reply) {
      return readYourWrites(
        () => handler.call(this as never, request, reply),
        !READING_METHODS.has(request.method),
      );
    };
  });
}

/** Whether the current request (or `readYourWrites` scope) reads the primary from now on. */
export function readsPrimary(): boolean {
  return requests.getStore()?.primary === true;
}
