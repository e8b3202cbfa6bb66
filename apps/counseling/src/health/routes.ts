import { type AppContext, healthRoute, type RoutesPlugin } from 'groundwork-pg';
import { z } from 'zod';

/** The story's health body. `database` says whether the server answered; `error` is sanitized by the foundation. */
export const HealthResponse = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  database: z.enum(['connected', 'disconnected']),
  latency_ms: z.number().nullable(),
  error: z.string().optional(),
  timestamp: z.string(),
});
type HealthResponse = z.infer<typeof HealthResponse>;

/**
 * GET /health: the story's shape over the foundation's readiness probe. Each call pings afresh (nothing is
 * cached), so it turns healthy again on its own once the database is back. Pending migrations also make it
 * unhealthy: the database answers, but this code cannot use it yet.
 */
export const healthRoutes: RoutesPlugin<{ context: AppContext }> = async (app, { context }) => {
  healthRoute(app, {
    url: '/',
    summary: 'Database connection status (200 healthy, 503 unhealthy)',
    schema: HealthResponse,
    readiness: context.readiness,
    body: (report): HealthResponse => ({
      status: report.status === 'ok' ? 'healthy' : 'unhealthy',
      database: report.database,
      latency_ms: report.latencyMs,
      ...(report.error ? { error: report.error } : {}),
      timestamp: report.timestamp,
    }),
  });
};
