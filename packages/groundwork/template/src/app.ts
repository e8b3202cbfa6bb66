import { join } from 'node:path';
import { defineApp, readinessRoutes } from 'groundwork-pg';
import * as schema from './schema.ts';
import { createUsersRepository } from './users/repository.ts';
import { usersRoutes } from './users/routes.ts';

export default defineApp({
  name: 'template-app',
  title: 'template-app',
  dir: join(import.meta.dirname, '..'),
  schema,
  // Tokens from an OpenID Connect issuer: `sub` is the user's subject, which names the user row.
  auth: { kind: 'jwt', users: { id: schema.users.id, match: schema.users.subject, claim: 'sub' } },
  routes: async (app, context) => {
    await app.register(readinessRoutes, { prefix: '/api/v1/health', readiness: context.readiness });
    await app.register(usersRoutes, { prefix: '/api/v1/users', users: createUsersRepository(context.db) });
  },
});
