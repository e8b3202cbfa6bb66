import { join } from 'node:path';
import { defineApp } from 'groundwork-pg';
import { healthRoutes } from './health/routes.ts';
import * as schema from './schema.ts';
import { createUsersRepository } from './users/repository.ts';
import { usersRoutes } from './users/routes.ts';

export default defineApp({
  name: 'delight',
  title: 'Delight: users and preferences',
  description:
    'Users (by Clerk id), their one-to-one preferences and the pgvector foundation of Delight (story 003).',
  dir: join(import.meta.dirname, '..'),
  schema,
  // PGlite loads @electric-sql/pglite-pgvector; on a server the first migration creates the extension.
  extensions: ['vector'],
  routes: async (app, context) => {
    await healthRoutes(app, context);
    await usersRoutes(app, { users: createUsersRepository(context.db) });
  },
});
