import { type AppContext, healthRoute, type RoutesPlugin, readinessSchema } from 'groundwork-pg';

/** Database reachable and migrations current: 200, else 503 with the reason. */
export const healthRoutes: RoutesPlugin<{ context: AppContext }> = async (app, { context }) => {
  healthRoute(app, {
    url: '/',
    summary: 'Service status and database connectivity (503 when not ready)',
    schema: readinessSchema,
    readiness: context.readiness,
    body: (report) => report,
  });
};
