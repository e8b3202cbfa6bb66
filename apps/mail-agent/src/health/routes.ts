import { sql } from 'drizzle-orm';
import { type AppContext, executeRows, healthRoute, type RoutesPlugin } from 'groundwork-pg';
import { z } from 'zod';
import type * as schema from '../schema.ts';

const DbHealth = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('connected'),
    database: z.string(),
    message: z.literal('PostgreSQL connection successful'),
  }),
  z.object({
    status: z.literal('disconnected'),
    error: z.string(),
    message: z.literal('Unable to connect to PostgreSQL'),
  }),
]);
type DbHealth = z.infer<typeof DbHealth>;

const disconnected = (error: string): DbHealth => ({
  status: 'disconnected',
  error,
  message: 'Unable to connect to PostgreSQL',
});

/**
 * The story's connection test. Unlike /health/ready it says nothing about migrations: it answers "can we
 * reach PostgreSQL", with the bodies the story specifies. The error is the foundation's sanitized one.
 */
export const healthRoutes: RoutesPlugin<{ context: AppContext<typeof schema> }> = async (
  app,
  { context },
) => {
  healthRoute(app, {
    url: '/db',
    summary: 'Can the app reach PostgreSQL (200 connected, 503 disconnected)',
    schema: DbHealth,
    readiness: () => context.readiness(),
    body: async (report): Promise<DbHealth> => {
      if (report.database !== 'connected') return disconnected(report.error ?? 'database unreachable');
      try {
        const [row] = await executeRows<{ name: string }>(context.db, sql`select current_database() as name`);
        return { status: 'connected', database: row!.name, message: 'PostgreSQL connection successful' };
      } catch {
        // Lost between the ping and this query.
        return disconnected('database unreachable');
      }
    },
    // Pending migrations do not fail this route (that is /health/ready's business): only the connection does.
    ready: (_report, body) => body.status === 'connected',
  });
};
