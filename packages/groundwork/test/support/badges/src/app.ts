import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { defineApp, type RoutesPlugin } from '../../../../src/app.ts';
import { ensureOwnClaim } from '../../../../src/auth/access.ts';
import type { Database } from '../../../../src/database/open.ts';
import { type Bindable, hotQuery, hotUpdate } from '../../../../src/database/prepared.ts';
import { notFound } from '../../../../src/http/errors.ts';
import { healthRoute } from '../../../../src/http/health-route.ts';
import { offsetPage, offsetPageQuery } from '../../../../src/http/pagination.ts';
import { errorResponses } from '../../../../src/http/responses.ts';
import * as schema from './schema.ts';

const User = z.object({ id: z.uuid(), subject: z.string(), name: z.string() });

const usersRoutes: RoutesPlugin<{ db: Database<typeof schema> }> = async (app, { db }) => {
  // GET and PATCH of one user check the token's user in their own statement (`inQuery`).
  const byId = hotQuery(db, 'badges_user_by_id', (executor, { id }: Bindable<{ id: string }>, owns) =>
    executor
      .select()
      .from(schema.users)
      .where(and(eq(schema.users.id, id), owns(schema.users.id))),
  );
  const rename = hotUpdate(
    db,
    'badges_user_rename',
    (executor, { id }: Bindable<{ id: string }>, changes, owns) =>
      executor
        .update(schema.users)
        .set(changes)
        .where(and(eq(schema.users.id, id), owns(schema.users.id)))
        .returning(),
  );
  const own = { auth: 'own', owner: { param: 'id', inQuery: true } } as const;
  app.post(
    '/',
    {
      config: { auth: 'user' },
      schema: {
        body: z.strictObject({ subject: z.string().min(1), name: z.string().min(1) }),
        response: { 201: User, ...errorResponses(403, 409) },
      },
    },
    async (request, reply) => {
      ensureOwnClaim(request, { field: 'subject', value: request.body.subject });
      const [row] = await db.insert(schema.users).values(request.body).returning();
      return reply.status(201).send(row!);
    },
  );
  app.get(
    '/',
    {
      config: { auth: 'admin' },
      schema: { querystring: offsetPageQuery(), response: { 200: offsetPage(User) } },
    },
    async (request) => {
      const rows = await db
        .select()
        .from(schema.users)
        .limit(request.query.limit)
        .offset(request.query.offset);
      return { data: rows, count: rows.length };
    },
  );
  app.get(
    '/:id',
    {
      config: own,
      schema: { params: z.object({ id: z.uuid() }), response: { 200: User, ...errorResponses(404) } },
    },
    async (request) => {
      const [row] = await byId({ id: request.params.id, caller: request.caller });
      if (!row) throw notFound('User');
      return row;
    },
  );
  app.patch(
    '/:id',
    {
      config: own,
      schema: {
        params: z.object({ id: z.uuid() }),
        body: z.strictObject({ name: z.string().min(1) }),
        response: { 200: User, ...errorResponses(404) },
      },
    },
    async (request) => {
      const [row] = await rename({ id: request.params.id, caller: request.caller }, request.body);
      if (!row) throw notFound('User');
      return row;
    },
  );
};

/** A small `jwt` app: users matched to tokens by subject, exercising the ownership helpers end to end. */
export default defineApp({
  name: 'badges',
  title: 'Badges (foundation test app)',
  dir: join(import.meta.dirname, '..'),
  schema,
  auth: { kind: 'jwt', users: { id: schema.users.id, match: schema.users.subject } },
  routes: async (app, context) => {
    healthRoute(app, {
      url: '/status',
      schema: z.object({ status: z.enum(['up', 'down']), engine: z.string() }),
      readiness: context.readiness,
      body: (report) => ({
        status: report.status === 'ok' ? ('up' as const) : ('down' as const),
        engine: report.engine,
      }),
    });
    app.get(
      '/me',
      { config: { auth: 'user' }, schema: { response: { 200: z.object({ userId: z.uuid().nullable() }) } } },
      async (request) => ({
        userId: request.identity.kind === 'user' ? (request.identity.userId ?? null) : null,
      }),
    );
    await app.register(usersRoutes, { prefix: '/users', db: context.db });
  },
});
