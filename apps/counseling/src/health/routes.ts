import type { AppContext, AppServer } from 'groundwork-pg';
import { z } from 'zod';

/** The story's health body. `database` says whether the server answered; `error` is sanitized by the foundation. */
export const HealthResponse = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  database: z.enum(['connected', 'disconnected']),
  latency_ms: z.number().nullable(),
  error: z.string().optional(),
  timestamp: z.string(),
});

/**
 * GET /health: the story's shape over the foundation's readiness probe. Each call pings afresh (nothing is
 * cached), so it turns healthy again on its own once the database is back. Pending migrations also make it
 * unhealthy: the database answers, but this code cannot use it yet.
 */
export function registerHealthRoutes(app: AppServer, context: AppContext<any>): void {
  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Database connection status (200 healthy, 503 unhealthy)',
        response: { 200: HealthResponse, 503: HealthResponse },
      },
    },
    async (_request, reply) => {
      const report = await context.readiness();
      const healthy = report.status === 'ok';
      // A cached 200 would hide an outage from whoever polls this.
      reply.header('cache-control', 'no-store');
      return reply.status(healthy ? 200 : 503).send({
        status: healthy ? 'healthy' : 'unhealthy',
        database: report.database,
        latency_ms: report.latencyMs,
        ...(report.error ? { error: report.error } : {}),
        timestamp: report.timestamp,
      });
    },
  );
}
