import type { FastifyBaseLogger } from 'fastify';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import type { Settings } from '../config.ts';
import { redactSecrets } from '../redact.ts';
import type { AppServer } from './app-server.ts';

export type LogLevel = Settings['logLevel'];

/** Where a server's log lines go instead of stdout (tests read them). */
export interface LogStream {
  write(line: string): void;
}

const SECRET_QUERY_KEY = /pass|secret|token|key|auth|session|code/i;

/** Query values whose names look secret never reach a log line. */
function redactUrl(url: string): string {
  const [path, query] = url.split('?', 2);
  if (!query) return redactSecrets(url);
  const params = new URLSearchParams(query);
  for (const key of params.keys()) if (SECRET_QUERY_KEY.test(key)) params.set(key, '***');
  return `${path}?${params.toString().replace(/%2A/g, '*')}`;
}

/** Fields masked wherever they sit one level down in a log line (`{ user: { password } }`) or at its top. */
const SECRET_FIELDS = new Set([
  'password',
  'password_hash',
  'hashed_password',
  'access_token',
  'refresh_token',
  'token',
  'databaseUrl',
  'DATABASE_URL',
  'secretKeys',
]);

/** `object` with the values `mask` changes, copied only when one changes. */
function masked(
  object: Record<string, unknown>,
  mask: (key: string, value: unknown) => unknown,
): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in object) {
    const value = object[key];
    const replaced = mask(key, value);
    if (replaced === value) continue;
    copy ??= { ...object };
    copy[key] = replaced;
  }
  return copy ?? object;
}

const maskSecretFields = (key: string, value: unknown) => (SECRET_FIELDS.has(key) ? '***' : value);

/**
 * A log line's object with secrets masked at the top and one level down. Written by hand because pino's
 * path-based `redact` costs far more per line and per request's child logger (docs/performance.md).
 */
export function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  return masked(object, (key, value) =>
    value !== null && typeof value === 'object' && !SECRET_FIELDS.has(key)
      ? masked(value as Record<string, unknown>, maskSecretFields)
      : maskSecretFields(key, value),
  );
}

/** Lines flushed at least this often when fewer than 4 KiB wait. */
const LOG_FLUSH_MS = 100;
/** One per process, as stdout is: every server built in it shares the buffer and its timer. */
let stdoutStream: DestinationStream | undefined;

/**
 * stdout written 4 KiB or 100 ms at a time: a write(2) per line costs a request a measurable share of its CPU
 * at `info` (docs/performance.md). pino flushes what is left when the process exits; a SIGKILL loses at most
 * the last 100 ms.
 */
function bufferedStdout(): DestinationStream {
  if (stdoutStream) return stdoutStream;
  const stream = pino.destination({ dest: 1, minLength: 4096, sync: false });
  const timer = setInterval(() => stream.flush(), LOG_FLUSH_MS).unref();
  stream.on('close', () => clearInterval(timer));
  stdoutStream = stream;
  return stream;
}

/**
 * The server's pino logger: secrets masked by `redactLogObject` in every line and in every child's
 * bindings (pino's formatters do not reach those, so `child` masks them on the way in; children inherit
 * it). Request and response headers never reach a line: the serializers keep the method, the redacted URL
 * and the id of a request, and the status of a reply.
 */
export function createLogger(level: LogLevel, stream?: LogStream | NodeJS.WritableStream): FastifyBaseLogger {
  const options: LoggerOptions = {
    level,
    formatters: { log: redactLogObject },
    serializers: {
      req: (request) => ({ method: request.method, url: redactUrl(request.url), id: request.id }),
      res: (reply) => ({ statusCode: reply.statusCode }),
    },
  };
  const logger = pino(options, (stream as DestinationStream | undefined) ?? bufferedStdout());
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, redactLogObject(bindings), childOptions);
  } as Logger['child'];
  return logger;
}

/** pino-pretty's human-readable lines (loaded only when asked for). */
export async function prettyStream(): Promise<NodeJS.WritableStream> {
  const { default: pinoPretty } = await import('pino-pretty');
  return pinoPretty({
    colorize: true,
    singleLine: true,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}

const LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * One line per request, at completion (and at `debug` one more on arrival), instead of Fastify's two. Hooks
 * only for the levels that write: a level above info costs no hook at all.
 */
export function logRequests(server: AppServer, level: LogLevel): void {
  const writes = (at: LogLevel) => LEVELS.indexOf(level) <= LEVELS.indexOf(at);
  if (writes('debug')) {
    server.addHook('onRequest', (request, _reply, done) => {
      request.log.debug({ method: request.method, url: redactUrl(request.url) }, 'request received');
      done();
    });
  }
  if (writes('info')) {
    server.addHook('onResponse', (request, reply, done) => {
      // The route pattern, not the URL: ids and query values stay out; an unmatched URL is logged redacted.
      const route = request.routeOptions.url;
      request.log.info(
        {
          method: request.method,
          route,
          ...(route === undefined ? { url: redactUrl(request.url) } : {}),
          status: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request completed',
      );
      done();
    });
  }
}
