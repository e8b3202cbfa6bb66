import { join } from 'node:path';
import { z } from 'zod';
import { defineApp } from '../../../../src/app.ts';
import * as schema from './schema.ts';

/** The isolation proof's app: sequences of every kind, and a write that runs in the app's own transaction. */
export default defineApp({
  name: 'tallies',
  title: 'Tallies (foundation test app)',
  dir: join(import.meta.dirname, '..'),
  schema,
  routes: async (app, { db }) => {
    app.post(
      '/counters',
      {
        schema: {
          body: z.strictObject({ label: z.string() }),
          response: { 201: z.object({ id: z.number(), tick: z.number(), ticket: z.number() }) },
        },
      },
      async (request, reply) => {
        const created = await db.transaction(async (tx) => {
          const [counter] = await tx.insert(schema.counters).values(request.body).returning();
          const [tick] = await tx.insert(schema.ticks).values({ counterId: counter!.id }).returning();
          return { id: counter!.id, tick: tick!.id, ticket: tick!.ticket };
        });
        return reply.status(201).send(created);
      },
    );
  },
});
