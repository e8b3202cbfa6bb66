import { type AppContext, type AppServer, readinessSchema } from 'groundwork-pg';
import { z } from 'zod';

// The story's body ({ status: healthy, version, database: connected }) plus the foundation's readiness
// details, so a failure says why (unreachable, timeout, pending migrations) without leaking internals.
const Health = readinessSchema.extend({
  status: z.enum(['healthy', 'unhealthy']),
  version: z.string(),
});

export function registerHealthRoutes(
  app: AppServer,
  context: Pick<AppContext<any>, 'readiness'>,
  version: string,
): void {
  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Database connectivity and migration state',
        response: { 200: Health, 503: Health },
      },
    },
    async (_request, reply) => {
      const { status, ...report } = await context.readiness();
      if (status === 'ok') return { status: 'healthy' as const, version, ...report };
      return reply
        .status(503)
        .header('retry-after', '5')
        .send({ status: 'unhealthy' as const, version, ...report });
    },
  );
}
