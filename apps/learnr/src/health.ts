import type { AppContext, AppServer } from 'groundwork';
import { z } from 'zod';

const Health = z.object({
  status: z.enum(['ok', 'unavailable']),
  database: z.enum(['connected', 'disconnected']),
  engine: z.enum(['pglite', 'postgres']),
  latencyMs: z.number().nullable(),
  migrations: z
    .object({ current: z.string().nullable(), head: z.string().nullable(), pending: z.number().int() })
    .nullable(),
  reason: z.string().optional(),
  error: z.string().optional(),
  timestamp: z.string(),
});

/** The story's health endpoint: the foundation's readiness report (ping + migrations) under /api/v1. */
export function healthRoutes(app: AppServer, context: Pick<AppContext<any>, 'readiness'>): void {
  app.get(
    '/api/v1/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Service status and database connectivity (503 when not ready)',
        response: { 200: Health, 503: Health },
      },
    },
    async (_request, reply) => {
      const report = await context.readiness();
      return reply.status(report.status === 'ok' ? 200 : 503).send(report);
    },
  );
}
