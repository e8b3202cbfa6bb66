import { join } from 'node:path';
import { z } from 'zod';
import { defineApp, type RoutesPlugin } from '../../../../src/app.ts';
import { ensureOwnClaim } from '../../../../src/auth/access.ts';
import { ownRowRoutes } from '../../../../src/auth/own-row-routes.ts';
import type { Database } from '../../../../src/database/open.ts';
import { rowById } from '../../../../src/database/row-by-id.ts';
import { healthRoute } from '../../../../src/http/health-route.ts';
import { offsetPage, offsetPageQuery } from '../../../../src/http/pagination.ts';
import { errorResponses } from '../../../../src/http/responses.ts';
import * as schema from './schema.ts';

const User = z.object({ id: z.uuid(), subject: z.string(), name: z.string() });

const usersRoutes: RoutesPlugin<{ db: Database<typeof schema> }> = async (app, { db }) => {
  // GET and PATCH of one user check the token's user in their own statement (`inQuery`).
  const byId = rowById(db, { name: 'badges_user', table: schema.users, id: schema.users.id });
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
  ownRowRoutes(app, {
    tags: ['users'],
    response: { schema: User, from: (row) => row },
    read: { summary: 'One user', find: byId.find },
    update: {
      summary: 'Rename the user',
      body: z.strictObject({ name: z.string().min(1) }),
      apply: (key, body) => byId.update(key, body),
    },
  });
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
