import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyReply, LogController } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import helmet from 'helmet';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { z } from 'zod';
import type { AppServer } from '../app.ts';
import { registerAuth } from '../auth/plugin.ts';
import { type Settings, servesOpenly } from '../config.ts';
import { redactSecrets } from '../redact.ts';
import type { RunningApp } from '../runtime.ts';
import { ERROR_RESPONSES, errorHandler, notFoundHandler } from './errors.ts';
import { readinessSchema } from './health.ts';
import { healthRoute } from './health-route.ts';
import { renderIndex } from './index-page.ts';
import { openapiComponents, operationIds } from './openapi.ts';
import { serializerCompiler } from './serialize.ts';

export interface ServerOptions {
  logLevel?: Settings['logLevel'];
  /** 'root': one app at `/`; 'prefixed': each app under `/<name>/` with an index at `/`. */
  mount?: 'root' | 'prefixed';
  bodyLimit?: number;
  /** Where log lines go (default stdout); tests read them. */
  logStream?: { write(line: string): void };
  /** Human-readable lines (pino-pretty); by default in development when stdout is a terminal. */
  pretty?: boolean;
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
 * path-based `redact` cost ~30 µs per line and ~4 µs per request's child logger.
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
 * stdout written 4 KiB or 100 ms at a time: one write(2) per line cost GET user ~33 µs of CPU at `info`
 * (258 against 225 µs, bench:http). pino flushes what is left when the process exits; a SIGKILL loses at most the last 100 ms.
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
export function createLogger(
  level: Settings['logLevel'],
  stream?: ServerOptions['logStream'] | NodeJS.WritableStream,
): FastifyBaseLogger {
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

const aggregateSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  apps: z.record(z.string(), readinessSchema),
  timestamp: z.string(),
});

/** Registers one app (its docs, its health, its routes) in an encapsulated context. */
async function mountApp(server: AppServer, running: RunningApp, prefix: string): Promise<void> {
  const { definition, context } = running;
  await server.register(
    async (scope) => {
      await scope.register(swagger, {
        openapi: {
          openapi: '3.0.3',
          info: {
            title: definition.title,
            description: definition.description,
            version: definition.version ?? '0.1.0',
          },
          servers: [{ url: prefix || '/' }],
          components: {
            securitySchemes: {
              bearerAuth: {
                type: 'http',
                scheme: 'bearer',
                description: 'an operator key (ADMIN_API_KEYS), an issuer token or a login session token',
              },
            },
          },
        },
        ...openapiComponents(),
      });
      // The UI page links its assets by absolute path, so in all-apps mode it needs the app's prefix too.
      await scope.register(swaggerUi, { routePrefix: '/docs', indexPrefix: prefix });
      const app = scope.withTypeProvider<ZodTypeProvider>();
      app.addHook('onRoute', operationIds(prefix));
      app.get(
        '/health/live',
        { schema: { tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } } },
        async () => ({ status: 'ok' as const }),
      );
      healthRoute(app, {
        url: '/health/ready',
        summary: 'Database reachable and migrations current (503 when not)',
        schema: readinessSchema,
        readiness: () => context.readiness(),
        body: (report) => report,
      });
      // The app's own routes sit in a child scope with the auth hook; docs and /health/* above stay public.
      await app.register(async (authed) => {
        registerAuth(authed, running.auth);
        authed.addHook('onRoute', (route) => {
          route.schema = {
            ...route.schema,
            response: { ...ERROR_RESPONSES, ...(route.schema?.response as object | undefined) },
            ...(route.config?.auth === 'public' ? {} : { security: [{ bearerAuth: [] }] }),
          };
        });
        await definition.routes(authed, context);
      });
    },
    { prefix },
  );
}

/** An incoming id is trusted only in a shape that is safe to log and echo; anything else gets a fresh UUID. */
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Serves JSON and the swagger UI only: scripts and styles from this origin (the UI sets inline styles),
 * no frames, no plugins, no forms elsewhere. No upgrade-insecure-requests: development serves plain http.
 */
const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
};

const LEVELS: Settings['logLevel'][] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** pino-pretty in development on a terminal (loaded only then); JSON lines everywhere else. */
async function prettyStream(
  apps: RunningApp[],
  options: ServerOptions,
): Promise<NodeJS.WritableStream | undefined> {
  const pretty =
    options.pretty ??
    (apps.every((a) => a.settings.nodeEnv === 'development') && process.stdout.isTTY === true);
  if (!pretty) return undefined;
  const { default: pinoPretty } = await import('pino-pretty');
  return pinoPretty({
    colorize: true,
    singleLine: true,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}

/**
 * Helmet's document headers for this policy, worked out once: with no nonces they are the same on every
 * response, and asking helmet per request re-parses the whole policy each time.
 */
function documentSecurityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = value;
    },
    removeHeader: () => {},
  };
  helmet({
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    frameguard: { action: 'deny' },
    // A cross-origin API client (another site's frontend) must be able to read responses CORS allows.
    crossOriginResourcePolicy: { policy: 'same-site' },
  })({} as IncomingMessage, response as unknown as ServerResponse, () => {});
  return headers;
}

/** HTML pages (the docs UI, the index): helmet's full set, with the policy the swagger UI needs. */
const DOCUMENT_SECURITY_HEADERS = documentSecurityHeaders();

/**
 * Every other response (JSON): the OWASP REST set. Nothing in a JSON body may load anything or be framed, so
 * the policy is `default-src 'none'`; helmet's other headers govern documents only. Half the bytes of the
 * document set: on loopback each response's bytes cost the server CPU (GET user ~3 µs; docs/performance.md).
 */
const API_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': DOCUMENT_SECURITY_HEADERS['cross-origin-resource-policy']!,
  'referrer-policy': 'no-referrer',
  'strict-transport-security': DOCUMENT_SECURITY_HEADERS['strict-transport-security']!,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

const isHtml = (reply: FastifyReply) => String(reply.getHeader('content-type') ?? '').startsWith('text/html');

export async function buildServer(apps: RunningApp[], options: ServerOptions = {}): Promise<AppServer> {
  const mount = options.mount ?? (apps.length === 1 ? 'root' : 'prefixed');
  const level = options.logLevel ?? 'info';
  const writes = (at: Settings['logLevel']) => LEVELS.indexOf(level) <= LEVELS.indexOf(at);
  if (mount === 'root' && apps.length !== 1) throw new Error('root mount serves exactly one app');
  const server = Fastify({
    loggerInstance: createLogger(level, options.logStream ?? (await prettyStream(apps, options))),
    // One line per request, written by the onResponse hook below, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1_048_576,
    requestIdHeader: false,
    genReqId: requestIdOf,
    return503OnClosing: true,
    // `/users/` answers as `/users`, and a route module's '/' registers only its prefix (fastify/demo style).
    routerOptions: { ignoreTrailingSlash: true },
    forceCloseConnections: 'idle',
    // A malformed URL or an overlong path parameter is refused before routing; answer in the error shape too.
    frameworkErrors: errorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  server.setErrorHandler(errorHandler);
  server.setNotFoundHandler(notFoundHandler);
  // Before the handler, as helmet does, so a route may still set one of them itself.
  server.addHook('onRequest', (_request, reply, done) => {
    reply.headers(API_SECURITY_HEADERS);
    done();
  });
  // Set once close() starts: a keep-alive socket whose request was in flight must not stay open after it.
  let closing = false;
  server.addHook('preClose', async () => {
    closing = true;
  });
  server.addHook('onSend', (request, reply, payload, done) => {
    // Known only once the body is: an HTML page swaps the REST set for the document set.
    if (isHtml(reply)) reply.headers(DOCUMENT_SECURITY_HEADERS);
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // Hooks only for the levels that write: a level above info costs no hook at all.
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

  for (const running of apps) {
    await mountApp(server, running, mount === 'root' ? '' : `/${running.definition.name}`);
    if (servesOpenly(running.settings, running.definition.auth.kind)) {
      server.log.warn(
        `${running.definition.name}: no credentials configured, so requests without one act as operators (development only; set ADMIN_API_KEYS${running.definition.auth.kind === 'jwt' ? ' or AUTH_ISSUER and AUTH_AUDIENCE' : ''})`,
      );
    }
  }

  if (mount === 'prefixed') {
    server.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(renderIndex(apps.map((a) => a.definition))),
    );
    server.get(
      '/health',
      { schema: { response: { 200: aggregateSchema, 503: aggregateSchema } } },
      async (_request, reply) => {
        const reports = await Promise.all(
          apps.map(async (a) => [a.definition.name, await a.context.readiness()] as const),
        );
        const status = reports.every(([, report]) => report.status === 'ok') ? 'ok' : 'unavailable';
        return reply
          .status(status === 'ok' ? 200 : 503)
          .send({ status, apps: Object.fromEntries(reports), timestamp: new Date().toISOString() });
      },
    );
  }
  server.addHook('onClose', async () => {
    await Promise.all(apps.map((a) => a.handle.close()));
  });
  return server;
}

/**
 * Stops accepting, lets in-flight requests finish (each response closes its connection), and at the deadline
 * destroys the connections still open. The databases close last (the onClose hook above).
 */
export async function drainAndClose(server: AppServer, timeoutMs: number): Promise<'drained' | 'deadline'> {
  let struck = false;
  const deadline = setTimeout(() => {
    struck = true;
    server.server.closeAllConnections();
  }, timeoutMs);
  try {
    await server.close();
  } finally {
    clearTimeout(deadline);
  }
  return struck ? 'deadline' : 'drained';
}
