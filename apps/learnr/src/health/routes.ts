import { type AppContext, healthRoute, type RoutesPlugin, readinessSchema } from 'groundwork-pg';

/** The story's health endpoint: the foundation's readiness report (ping + migrations) as it is. */
export const healthRoutes: RoutesPlugin<{ context: AppContext }> = async (app, { context }) => {
  healthRoute(app, {
    url: '/',
    summary: 'Service status and database connectivity (503 when not ready)',
    schema: readinessSchema,
    readiness: context.readiness,
    body: (report) => report,
  });
};
