import type postgres from 'postgres';
import { ARRAY_TYPES, addArrayTypes } from '../adapters/postgres-array-types.ts';
import { NotSentError } from '../adapters/postgres-socket.ts';
import { isConnectionLost } from './connection-errors.ts';

export class ArrayTypesTimeoutError extends Error {
  readonly code = 'CONNECT_TIMEOUT';
}

/**
 * A pool's array types (postgres.js's own load fails where nobody listens: adapters/postgres-array-types.ts),
 * loaded once per pool into `sql`'s tables, on a connection `open` makes, bounded by `timeoutMs`, before the
 * pool's connections open. Types created after the load stay unknown to the pool (their arrays arrive as
 * text), as they do to postgres.js's connections opened before them. `ready()` is the guarded socket's `ready`: settled at once after a load succeeded; otherwise it loads
 * (one load at a time for all connection attempts). A failure is the connection attempt's: the load's own
 * error when the server could not be used, or NotSentError when its connection was lost, since the pool's
 * statement never left this process and may be run again.
 */
export function arrayTypesLoader(
  sql: () => postgres.Sql,
  open: () => postgres.Sql,
  timeoutMs: number,
): () => Promise<void> {
  let loading: Promise<void> | undefined;
  const load = async () => {
    const connection = open();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void connection.end({ timeout: 0 });
    }, timeoutMs);
    try {
      addArrayTypes(sql(), await connection.unsafe<{ oid: number; typarray: number }[]>(ARRAY_TYPES));
    } catch (error) {
      if (timedOut) {
        throw new ArrayTypesTimeoutError(
          `the server did not answer the array types' query within ${timeoutMs} ms`,
        );
      }
      throw isConnectionLost(error) ? Object.assign(new NotSentError(), { cause: error }) : error;
    } finally {
      clearTimeout(timer);
      void connection.end({ timeout: 0 });
    }
  };
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
