import { type AppContext, healthRoute, type RoutesPlugin, readinessSchema } from 'groundwork-pg';
import { z } from 'zod';

// The story's body ({ status: healthy, version, database: connected }) plus the foundation's readiness
// details, so a failure says why (unreachable, timeout, pending migrations) without leaking internals.
const Health = readinessSchema.extend({
  status: z.enum(['healthy', 'unhealthy']),
  version: z.string(),
});

export const healthRoutes: RoutesPlugin<{ context: AppContext; version: string }> = async (
  app,
  { context, version },
) => {
  healthRoute(app, {
    url: '/',
    summary: 'Database connectivity and migration state',
    schema: Health,
    readiness: context.readiness,
    body: ({ status, ...report }) => ({
      status: status === 'ok' ? ('healthy' as const) : ('unhealthy' as const),
      version,
      ...report,
    }),
  });
};
