/** Classifies driver errors (postgres.js, PGlite, Drizzle's wrapper) by what they mean for a request. */
import { NOT_SENT } from '../adapters/postgres-socket.ts';

/** The SQLSTATE of a database error, looking through Drizzle's `DrizzleQueryError` wrapper. */
export function databaseErrorOf(error: unknown): DatabaseErrorLike | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const candidate = current as DatabaseErrorLike;
    if (typeof candidate.code === 'string' && candidate.code.length > 0) return candidate;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface DatabaseErrorLike {
  code: string;
  message: string;
  detail?: string;
  /** postgres.js calls it constraint_name, PGlite constraint. */
  constraint_name?: string;
  constraint?: string;
  column_name?: string;
  column?: string;
  table_name?: string;
  table?: string;
}

/** The server ended the backend (terminate, shutdown, crash): the statement it was running did not commit. */
const SERVER_ENDED_BACKEND = new Set(['57P01', '57P02', '57P03']);
/** The socket broke. Only NOT_SENT says the statement never reached the server. */
const SOCKET_LOST = new Set([
  NOT_SENT,
  'ECONNRESET',
  'EPIPE',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
]);
/** Wrong credentials or a missing database: the server is there but this app cannot use it until fixed. */
const REFUSED = new Set(['28P01', '28000', '3D000']);
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  '57P03',
]);

/** The statement never left this process: running it again cannot run it twice. */
export function isNeverSent(error: unknown): boolean {
  return databaseErrorOf(error)?.code === NOT_SENT;
}

/** A connection that was made is gone: its socket broke, or the server ended its backend. */
export function isConnectionLost(error: unknown): boolean {
  const code = databaseErrorOf(error)?.code ?? '';
  return (SOCKET_LOST.has(code) || SERVER_ENDED_BACKEND.has(code)) && !UNREACHABLE.has(code);
}

/** No connection could be made: nothing listens, the name does not resolve, or the connect timed out. */
export function isUnreachable(error: unknown): boolean {
  return UNREACHABLE.has(databaseErrorOf(error)?.code ?? '');
}

/** Groundwork's own codes, on errors raised before the driver is reached. */
export const POOL_TIMEOUT = 'GW_POOL_TIMEOUT';
export const PING_TIMEOUT = 'GW_PING_TIMEOUT';

/** What a request is told when the database cannot serve it: always a 503 with a time to retry after. */
export interface Unavailability {
  status: 503;
  code: 'database_unavailable' | 'schema_not_ready';
  message: string;
  retryAfter: number;
}

const unavailable = (message: string, retryAfter: number): Unavailability => ({
  status: 503,
  code: 'database_unavailable',
  message,
  retryAfter,
});
const UNREACHABLE_ANSWER = unavailable('the database is not reachable', 5);

/**
 * The one table from an error code to its answer. Busy and slow are retried soon; an unreachable server
 * later; a schema behind the code (a missing table or column: pending migrations) after a deploy's time.
 */
const UNAVAILABLE_BY_CODE = new Map<string, Unavailability>([
  ['57014', unavailable('the database took too long to answer', 1)], // statement timeout or cancel
  [POOL_TIMEOUT, unavailable('all database connections are busy', 1)],
  [PING_TIMEOUT, unavailable('the database did not answer in time', 5)],
  ['53300', UNREACHABLE_ANSWER], // too many connections
  ...[...SERVER_ENDED_BACKEND, ...SOCKET_LOST, ...UNREACHABLE, ...REFUSED].map(
    (code) => [code, UNREACHABLE_ANSWER] as const,
  ),
  ...['42P01', '42703'].map(
    (code) =>
      [
        code,
        {
          status: 503,
          code: 'schema_not_ready',
          message: 'the database schema is older than this code; run the pending migrations',
          retryAfter: 30,
        },
      ] as const,
  ),
]);

/** The 503 an error means, or undefined when it is not about the database's availability. */
export function unavailabilityOf(error: unknown): Unavailability | undefined {
  return UNAVAILABLE_BY_CODE.get(databaseErrorOf(error)?.code ?? '');
}

/** Anything that says "the database is not available right now, try again later". */
export function isUnavailable(error: unknown): boolean {
  return unavailabilityOf(error)?.code === 'database_unavailable';
}
