import { type AppContext, type AppServer, readinessSchema } from 'groundwork-pg';

/** The story's health endpoint: the foundation's readiness report (ping + migrations) under /api/v1. */
export function healthRoutes(app: AppServer, context: Pick<AppContext<any>, 'readiness'>): void {
  app.get(
    '/api/v1/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Service status and database connectivity (503 when not ready)',
        response: { 200: readinessSchema, 503: readinessSchema },
      },
    },
    async (_request, reply) => {
      const report = await context.readiness();
      return reply.status(report.status === 'ok' ? 200 : 503).send(report);
    },
  );
}
