import { healthRoute, type ReadinessReport, type RoutesPlugin, readinessSchema } from 'groundwork-pg';

/** The story's health endpoint: the foundation's readiness report (ping + migrations) as it is. */
export const healthRoutes: RoutesPlugin<{ readiness: () => Promise<ReadinessReport> }> = async (
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
