import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { defineApp } from '../../../../src/app.ts';
import { executeRows } from '../../../../src/database/rows.ts';
import { notFound } from '../../../../src/http/errors.ts';
import * as schema from './schema.ts';

/** A small app exercising the foundation: real constraint errors, slow queries, a secret-bearing failure. */
export default defineApp({
  name: 'notes',
  title: 'Notes (foundation test app)',
  dir: join(import.meta.dirname, '..'),
  schema,
  routes: async (app, { db }) => {
    app.post(
      '/authors',
      {
        schema: {
          body: z.object({ email: z.string().email() }),
          response: { 201: z.object({ id: z.string() }) },
        },
      },
      async (request, reply) => {
        const [row] = await db
          .insert(schema.authors)
          .values(request.body)
          .returning({ id: schema.authors.id });
        return reply.status(201).send(row!);
      },
    );
    app.get(
      '/authors/:id',
      {
        schema: {
          params: z.object({ id: z.string() }),
          response: { 200: z.object({ id: z.string(), email: z.string() }) },
        },
      },
      async (request) => {
        const [row] = await db.select().from(schema.authors).where(eq(schema.authors.id, request.params.id));
        if (!row) throw notFound('Author');
        return row;
      },
    );
    app.post(
      '/notes',
      {
        schema: {
          body: z.object({
            authorId: z.string(),
            body: z.string().nullable(),
            stars: z.number().int().optional(),
          }),
          response: { 201: z.object({ id: z.string() }) },
        },
      },
      async (request, reply) => {
        const [row] = await db
          .insert(schema.notes)
          .values(request.body as typeof schema.notes.$inferInsert)
          .returning({ id: schema.notes.id });
        return reply.status(201).send(row!);
      },
    );
    app.post(
      '/authors/:id/notes',
      {
        config: { foreignKeyStatus: 404 },
        schema: {
          params: z.object({ id: z.string() }),
          body: z.object({ body: z.string() }),
          response: { 201: z.object({ id: z.string() }) },
        },
      },
      async (request, reply) => {
        const [row] = await db
          .insert(schema.notes)
          .values({ authorId: request.params.id, body: request.body.body })
          .returning({ id: schema.notes.id });
        return reply.status(201).send(row!);
      },
    );
    app.get(
      '/slow',
      {
        schema: {
          querystring: z.object({ seconds: z.coerce.number().max(10) }),
          response: { 200: z.object({ ok: z.boolean() }) },
        },
      },
      async (request) => {
        await executeRows(db, sql`select pg_sleep(${request.query.seconds})`);
        return { ok: true };
      },
    );
    app.get(
      '/pause',
      {
        schema: {
          querystring: z.object({ seconds: z.coerce.number().max(10) }),
          response: { 200: z.object({ authors: z.number() }) },
        },
      },
      async (request) => {
        // Waits without blocking the event loop (PGlite's pg_sleep would), then needs the database again.
        await delay(request.query.seconds * 1000);
        const [row] = await executeRows<{ n: number }>(db, sql`select count(*)::int as n from authors`);
        return { authors: Number(row?.n ?? 0) };
      },
    );
    app.get('/count', { schema: { response: { 200: z.object({ authors: z.number() }) } } }, async () => {
      const [row] = await executeRows<{ n: number }>(db, sql`select count(*)::int as n from authors`);
      return { authors: Number(row?.n ?? 0) };
    });
    app.get('/count-notes', { schema: { response: { 200: z.object({ notes: z.number() }) } } }, async () => {
      const [row] = await executeRows<{ n: number }>(db, sql`select count(*)::int as n from notes`);
      return { notes: Number(row?.n ?? 0) };
    });
    app.get('/divide', { schema: { querystring: z.object({ secret: z.string() }) } }, async (request) => {
      // Fails with 22012 (unmapped: 500) inside a query whose parameter is secret.
      await executeRows(db, sql`select length(${request.query.secret}) / 0`);
      return {};
    });
    app.get('/boom', async () => {
      throw new Error('failed to connect to postgres://app:s3cr3t-pass@db.internal:5432/prod with token=abc');
    });
  },
});
