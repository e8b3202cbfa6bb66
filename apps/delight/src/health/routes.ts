import { type AppContext, type AppServer, executeRows, readinessSchema } from 'groundwork-pg';
import { z } from 'zod';

const HealthReport = readinessSchema.extend({
  vector: z.object({ installed: z.boolean(), version: z.string().nullable() }).nullable(),
});

/** The installed pgvector version, or null when the extension is not installed in this database. */
async function vectorVersion(context: AppContext<any>): Promise<string | null> {
  const rows = await executeRows<{ version: string }>(
    context.db,
    `select extversion as version from pg_extension where extname = 'vector'`,
  );
  return rows[0]?.version ?? null;
}

export async function healthRoutes(app: AppServer, context: AppContext<any>): Promise<void> {
  app.get(
    '/api/v1/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Database connectivity, migration state and the pgvector version (503 when not ready)',
        response: { 200: HealthReport, 503: HealthReport },
      },
    },
    async (_request, reply) => {
      const readiness = await context.readiness();
      if (readiness.database !== 'connected') {
        return reply.status(503).send({ ...readiness, vector: null });
      }
      let version: string | null;
      try {
        version = await vectorVersion(context);
      } catch {
        // The database answered the ping a moment ago; report what we know rather than a 500.
        return reply.status(503).send({
          ...readiness,
          status: 'unavailable' as const,
          vector: null,
          error: 'could not read the vector extension version',
        });
      }
      const vector = { installed: version !== null, version };
      if (readiness.status === 'ok' && !vector.installed) {
        return reply.status(503).send({
          ...readiness,
          status: 'unavailable' as const,
          vector,
          reason: 'vector_missing',
          error: 'the vector extension (pgvector) is not installed in this database; run upgrade',
        });
      }
      return reply.status(readiness.status === 'ok' ? 200 : 503).send({ ...readiness, vector });
    },
  );
}
