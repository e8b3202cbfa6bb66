import { type AppContext, executeRows, healthRoute, type RoutesPlugin, readinessSchema } from 'groundwork-pg';
import { z } from 'zod';
import type * as schema from '../schema.ts';

const HealthReport = readinessSchema.extend({
  vector: z.object({ installed: z.boolean(), version: z.string().nullable() }).nullable(),
});
type HealthReport = z.infer<typeof HealthReport>;

/** The installed pgvector version, or null when the extension is not installed in this database. */
async function vectorVersion(context: AppContext<typeof schema>): Promise<string | null> {
  const rows = await executeRows<{ version: string }>(
    context.db,
    `select extversion as version from pg_extension where extname = 'vector'`,
  );
  return rows[0]?.version ?? null;
}

export const healthRoutes: RoutesPlugin<{ context: AppContext<typeof schema> }> = async (
  app,
  { context },
) => {
  healthRoute(app, {
    url: '/',
    summary: 'Database connectivity, migration state and the pgvector version (503 when not ready)',
    schema: HealthReport,
    readiness: () => context.readiness(),
    body: async (report): Promise<HealthReport> => {
      if (report.database !== 'connected') return { ...report, vector: null };
      let version: string | null;
      try {
        version = await vectorVersion(context);
      } catch {
        // The database answered the ping a moment ago; report what we know rather than a 500.
        return {
          ...report,
          status: 'unavailable',
          vector: null,
          error: 'could not read the vector extension version',
        };
      }
      const vector = { installed: version !== null, version };
      if (report.status === 'ok' && !vector.installed) {
        return {
          ...report,
          status: 'unavailable',
          vector,
          reason: 'vector_missing',
          error: 'the vector extension (pgvector) is not installed in this database; run upgrade',
        };
      }
      return { ...report, vector };
    },
    ready: (_report, body) => body.status === 'ok',
  });
};
