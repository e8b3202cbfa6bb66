/** Classifies driver errors (postgres.js, PGlite, Drizzle's wrapper) by what they mean for a request. */

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
/** The socket broke; whether a write committed is unknown, so only reads may be retried. */
const SOCKET_LOST = new Set([
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

export function isServerEndedBackend(error: unknown): boolean {
  return SERVER_ENDED_BACKEND.has(databaseErrorOf(error)?.code ?? '');
}

export function isSocketLost(error: unknown): boolean {
  return SOCKET_LOST.has(databaseErrorOf(error)?.code ?? '');
}

export function isUnreachable(error: unknown): boolean {
  return UNREACHABLE.has(databaseErrorOf(error)?.code ?? '');
}

/** Anything that says "the database is not available right now, try again later". */
export function isUnavailable(error: unknown): boolean {
  const code = databaseErrorOf(error)?.code ?? '';
  return (
    SERVER_ENDED_BACKEND.has(code) ||
    SOCKET_LOST.has(code) ||
    UNREACHABLE.has(code) ||
    REFUSED.has(code) ||
    code === '57014' || // statement timeout / cancel
    code === 'GW_POOL_TIMEOUT' ||
    code === 'GW_PING_TIMEOUT' ||
    code === '53300' // too many connections
  );
}
