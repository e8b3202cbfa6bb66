import type { z } from 'zod';
import type { AppServer } from './app-server.ts';
import type { ReadinessReport } from './health.ts';

/** Seconds a load balancer or client is asked to wait before probing a 503 again. */
export const HEALTH_RETRY_AFTER_S = 5;

export interface HealthRouteOptions<TBody extends z.ZodType> {
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
 * "healthy" is a lie) and `retry-after` on 503 are the foundation's, the same on every app.
 */
export function healthRoute<TBody extends z.ZodType>(
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
        response: { 200: options.schema, 503: options.schema } as Record<number, z.ZodType>,
      },
    },
    async (_request, reply) => {
      const report = await options.readiness();
      const body = await options.body(report);
      reply.header('cache-control', 'no-store');
      if (ready(report, body)) return reply.status(200).send(body);
      return reply.status(503).header('retry-after', HEALTH_RETRY_AFTER_S).send(body);
    },
  );
}
