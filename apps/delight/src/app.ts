import { join } from 'node:path';
import { defineApp } from 'groundwork-pg';
import { healthRoutes } from './health/routes.ts';
import * as schema from './schema.ts';
import { createUsersRepository } from './users/repository.ts';
import { usersRoutes } from './users/routes.ts';

export default defineApp({
  name: 'delight',
  title: 'Delight: users and preferences',
  description: 'Users (by Clerk id), their one-to-one preferences and the pgvector foundation of Delight.',
  license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
  dir: join(import.meta.dirname, '..'),
  schema,
  // PGlite loads @electric-sql/pglite-pgvector; on a server the first migration creates the extension.
  extensions: ['vector'],
  // Clerk session tokens: `sub` is the Clerk user id, which names the user row.
  auth: { kind: 'jwt', users: { id: schema.users.id, match: schema.users.clerkUserId, claim: 'sub' } },
  routes: async (app, context) => {
    await app.register(healthRoutes, { prefix: '/api/v1/health', context });
    await app.register(usersRoutes, { prefix: '/api/v1/users', users: createUsersRepository(context.db) });
  },
});
