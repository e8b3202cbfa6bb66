import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppServer } from './app-server.ts';
import { type ReadinessReport, readinessSchema } from './health.ts';

/** Seconds a load balancer or client is asked to wait before probing a 503 again. */
export const HEALTH_RETRY_AFTER_S = 5;

/** What a stranger learns from a health route: the verdict, nothing of the database behind it. */
const Verdict = z
  .object({ status: z.string() })
  .describe('the verdict only; with an operator key (or in development without credentials), the details');

export interface HealthRouteOptions<TBody extends z.ZodType<{ status: string }>> {
  url: string;
  summary?: string;
  /** The body's schema, for 200 and 503 alike. */
  schema: TBody;
  readiness: () => Promise<ReadinessReport>;
  /** The story's body for a readiness report. */
  body: (report: ReadinessReport) => z.infer<TBody> | Promise<z.infer<TBody>>;
  /** 200 or 503; by default the report's own verdict (database reachable and migrations current). */
  ready?: (report: ReadinessReport, body: z.infer<TBody>) => boolean;
}

/**
 * A public health route with the story's own body. The status, `cache-control: no-store` (a cached
 * "healthy" is a lie) and `retry-after` on 503 are the foundation's, the same on every app. The body's details
 * (database name, engine, migration ids, extension versions) are for operators: a stranger is told the
 * verdict, `{ status }`, and nothing that helps an attack (ASVS 14.3). Register it where the auth hook runs.
 */
export function healthRoute<TBody extends z.ZodType<{ status: string }>>(
  app: AppServer,
  options: HealthRouteOptions<TBody>,
): void {
  const ready = options.ready ?? ((report) => report.status === 'ok');
  app.get(
    options.url,
    {
      config: { auth: 'public' },
      schema: {
        tags: ['health'],
        summary: options.summary,
        // Typed loosely: the body's type is the caller's generic, checked where `body` is declared.
        response: {
          200: z.union([options.schema, Verdict]),
          503: z.union([options.schema, Verdict]),
        } as Record<number, z.ZodType>,
      },
    },
    async (request, reply) => {
      const report = await options.readiness();
      const body = await options.body(report);
      // The auth hook of the route's scope recognises an operator key on public routes, and says when the
      // app serves openly (development without credentials), where everyone is an operator.
      const shown =
        request.identity?.kind === 'admin' || request.server.servesOpenly ? body : { status: body.status };
      reply.header('cache-control', 'no-store');
      if (ready(report, body)) return reply.status(200).send(shown);
      return reply.status(503).header('retry-after', HEALTH_RETRY_AFTER_S).send(shown);
    },
  );
}

/**
 * A health route whose body is the foundation's readiness report as it is, at the prefix it is registered
 * under (`app.register(readinessRoutes, { prefix: '/api/v1/health', readiness: context.readiness })`): for an
 * app whose story asks nothing else of its health route.
 */
export const readinessRoutes: FastifyPluginAsyncZod<{ readiness: () => Promise<ReadinessReport> }> = async (
  app,
  { readiness },
) => {
  healthRoute(app, {
    url: '/',
    summary: 'Service status and database connectivity (503 when not ready)',
    schema: readinessSchema,
    readiness,
    body: (report) => report,
  });
};
