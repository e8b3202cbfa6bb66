import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyServerOptions, LogController } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { registerAuth } from './auth/plugin.ts';
import { servesOpenly } from './config.ts';
import type { AppServer } from './http/app-server.ts';
import { errorHandler, notFoundHandler } from './http/errors.ts';
import { readinessSchema } from './http/health.ts';
import { healthRoute } from './http/health-route.ts';
import { renderIndex } from './http/index-page.ts';
import { createLogger, type LogLevel, type LogStream, logRequests, prettyStream } from './http/logger.ts';
import { openapiComponents, operationIds } from './http/openapi.ts';
import { measureRequests } from './http/request-metrics.ts';
import { documentedResponses } from './http/responses.ts';
import { API_SECURITY_HEADERS, DOCUMENT_SECURITY_HEADERS, isHtml } from './http/security-headers.ts';
import { serializerCompiler } from './http/serialize.ts';
import { METRICS_CONTENT_TYPE, scrape } from './observability/exposition.ts';
import { startTracing } from './observability/tracing.ts';
import type { RunningApp } from './runtime.ts';

export interface ServerOptions {
  logLevel?: LogLevel;
  /** 'root': one app at `/`; 'prefixed': each app under `/<name>/` with an index at `/`. */
  mount?: 'root' | 'prefixed';
  bodyLimit?: number;
  /** Where log lines go (default stdout); tests read them. */
  logStream?: LogStream;
  /** Human-readable lines (pino-pretty); by default in development when stdout is a terminal. */
  pretty?: boolean;
}

/**
 * One Fastify server for `apps`: each app mounted in its own encapsulated context (its docs, its health, its
 * routes behind the auth hook), at `/` alone or under `/<name>/` beside an index page and an aggregate
 * `/health`. Closing it closes the apps' databases.
 */
export async function buildServer(apps: RunningApp[], options: ServerOptions = {}): Promise<AppServer> {
  const mount = options.mount ?? (apps.length === 1 ? 'root' : 'prefixed');
  if (mount === 'root' && apps.length !== 1) throw new Error('root mount serves exactly one app');
  const level = options.logLevel ?? 'info';
  const server = createServer(level, options.logStream ?? (await prettyLogs(apps, options)), options);
  await traceRequests(server, apps);
  addResponseHeaders(server);
  logRequests(server, level);
  if (apps.some((a) => a.settings.metrics.enabled)) measureRequests(server, appOfRoute(apps, mount));
  for (const running of apps) {
    await mountApp(server, running, mount === 'root' ? '' : `/${running.definition.name}`);
    warnIfServingOpenly(server, running);
  }
  if (mount === 'prefixed') addIndex(server, apps);
  server.addHook('onClose', async () => {
    await Promise.all(apps.map((a) => a.handle.close()));
  });
  return server;
}

/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT: a span per request (@fastify/otel, continuing an incoming `traceparent`)
 * whose trace id is in the request's log lines; spans still buffered are sent when the server closes.
 */
async function traceRequests(server: AppServer, apps: RunningApp[]): Promise<void> {
  const endpoint = apps.find((a) => a.settings.otlpEndpoint)?.settings.otlpEndpoint;
  if (!endpoint) return;
  const tracing = await startTracing(endpoint, apps.length === 1 ? apps[0]!.definition.name : 'groundwork');
  await server.register(tracing.instrumentation.plugin());
  server.addHook('onRequest', (request, _reply, done) => {
    const span = request.opentelemetry().span;
    if (span) request.log = request.log.child({ traceId: span.spanContext().traceId });
    done();
  });
  server.addHook('onClose', async () => {
    await tracing.provider.forceFlush();
  });
}

/** The `app` label of a route template: the one app at `/`, else the app whose prefix it starts with. */
function appOfRoute(apps: RunningApp[], mount: 'root' | 'prefixed'): (route: string | undefined) => string {
  if (mount === 'root') {
    const name = apps[0]!.definition.name;
    return () => name;
  }
  const names = apps.map((a) => a.definition.name);
  return (route) => names.find((name) => route?.startsWith(`/${name}/`)) ?? 'groundwork';
}

/** An incoming id is trusted only in a shape that is safe to log and echo; anything else gets a fresh UUID. */
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The zod compilers, given to Fastify as it is made (what setValidatorCompiler and setSerializerCompiler
 * install afterwards): made without them, Fastify requires its default ajv and fast-json-stringify
 * compilers, which this server never uses, at every start. Fastify types these factories for ajv's schemas.
 */
const zodCompilers = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as NonNullable<FastifyServerOptions['schemaController']>['compilersFactory'];

/** Fastify with the foundation's logger, request ids, limits, zod compilers and the one error shape. */
function createServer(
  level: LogLevel,
  logStream: LogStream | NodeJS.WritableStream | undefined,
  options: ServerOptions,
): AppServer {
  const server = Fastify({
    loggerInstance: createLogger(level, logStream),
    // One line per request, written by logRequests, instead of Fastify's two.
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
    schemaController: { compilersFactory: zodCompilers },
  }).withTypeProvider<ZodTypeProvider>();
  server.setErrorHandler(errorHandler);
  server.setNotFoundHandler(notFoundHandler);
  return server;
}

/** pino-pretty in development on a terminal; JSON lines everywhere else. */
async function prettyLogs(
  apps: RunningApp[],
  options: ServerOptions,
): Promise<NodeJS.WritableStream | undefined> {
  const pretty =
    options.pretty ??
    (apps.every((a) => a.settings.nodeEnv === 'development') && process.stdout.isTTY === true);
  return pretty ? prettyStream() : undefined;
}

/** Security headers on every response, its request id, and `connection: close` once the server is closing. */
function addResponseHeaders(server: AppServer): void {
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
}

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
            ...(definition.license ? { license: definition.license } : {}),
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
      // Public routes say so (`security: []`), so clients send no credential and linters see it was meant.
      app.addHook('onRoute', (route) => {
        if (route.config?.auth === 'public') route.schema = { ...route.schema, security: [] };
      });
      app.get(
        '/health/live',
        {
          config: { auth: 'public' },
          schema: {
            tags: ['health'],
            summary: 'The process answers (no database check)',
            response: { 200: z.object({ status: z.literal('ok') }) },
          },
        },
        async () => ({ status: 'ok' as const }),
      );
      // The app's own routes and /health/ready sit in a child scope with the auth hook (public routes there
      // recognise an operator key); docs and /health/live above stay outside it.
      await app.register(async (authed) => {
        registerAuth(authed, running.auth);
        healthRoute(authed, {
          url: '/health/ready',
          summary: 'Database reachable and migrations current (503 when not)',
          schema: readinessSchema,
          readiness: () => context.readiness(),
          body: (report) => report,
        });
        authed.addHook('onRoute', (route) => {
          route.schema = {
            ...route.schema,
            response: documentedResponses(route, { database: true }),
            ...(route.config?.auth === 'public' ? {} : { security: [{ bearerAuth: [] }] }),
          };
        });
        if (running.settings.metrics.enabled) {
          // Operators only; hidden from the app's OpenAPI document, which describes the app's own API.
          authed.get(
            '/metrics',
            { schema: { hide: true }, config: { auth: 'admin' } },
            async (_request, reply) => reply.type(METRICS_CONTENT_TYPE).send(await scrape()),
          );
        }
        await definition.routes(authed, context);
      });
    },
    { prefix },
  );
}

function warnIfServingOpenly(server: AppServer, { definition, settings }: RunningApp): void {
  if (!servesOpenly(settings, definition.auth.kind)) return;
  server.log.warn(
    `${definition.name}: no credentials configured, so requests without one act as operators (development only; set ADMIN_API_KEYS${definition.auth.kind === 'jwt' ? ' or AUTH_ISSUER and AUTH_AUDIENCE' : ''})`,
  );
}

const aggregateSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  // Only when every app serves openly (development): elsewhere each app's /health/ready shows operators its own.
  apps: z.record(z.string(), readinessSchema).optional(),
  timestamp: z.string(),
});

/** All-apps mode: the index page at `/` and `/health`, which is ok only when every app is ready. */
function addIndex(server: AppServer, apps: RunningApp[]): void {
  const open = apps.every(({ definition, settings }) => servesOpenly(settings, definition.auth.kind));
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
      const details = open ? Object.fromEntries(reports) : undefined;
      return reply
        .status(status === 'ok' ? 200 : 503)
        .send({ status, apps: details, timestamp: new Date().toISOString() });
    },
  );
}

/**
 * Stops accepting, lets in-flight requests finish (each response closes its connection), and at the deadline
 * destroys the connections still open. The databases close last (buildServer's onClose hook).
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
