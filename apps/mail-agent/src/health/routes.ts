import { sql } from 'drizzle-orm';
import { type AppContext, type AppServer, executeRows } from 'groundwork-pg';
import { z } from 'zod';

const Connected = z.object({
  status: z.literal('connected'),
  database: z.string(),
  message: z.literal('PostgreSQL connection successful'),
});
const Disconnected = z.object({
  status: z.literal('disconnected'),
  error: z.string(),
  message: z.literal('Unable to connect to PostgreSQL'),
});

/**
 * The story's connection test. Unlike /health/ready it says nothing about migrations: it answers "can we
 * reach PostgreSQL", with the bodies the story specifies. The error is the foundation's sanitized one.
 */
export function registerHealthRoutes(app: AppServer, context: AppContext<any>): void {
  app.get(
    '/api/v1/health/db',
    { schema: { tags: ['health'], response: { 200: Connected, 503: Disconnected } } },
    async (_request, reply) => {
      const report = await context.readiness();
      let error = report.error ?? 'database unreachable';
      if (report.database === 'connected') {
        try {
          const [row] = await executeRows<{ name: string }>(
            context.db,
            sql`select current_database() as name`,
          );
          return {
            status: 'connected' as const,
            database: row!.name,
            message: 'PostgreSQL connection successful' as const,
          };
        } catch {
          // Lost between the ping and this query.
          error = 'database unreachable';
        }
      }
      return reply
        .status(503)
        .header('retry-after', '5')
        .send({ status: 'disconnected', error, message: 'Unable to connect to PostgreSQL' });
    },
  );
}
