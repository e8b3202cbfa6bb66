import { join } from 'node:path';
import { defineApp } from 'groundwork-pg';
import { healthRoutes } from './health/routes.ts';
import * as schema from './schema.ts';
import { createUsersRepository } from './users/repository.ts';
import { usersRoutes } from './users/routes.ts';

export default defineApp({
  name: 'learnr',
  title: 'Learnr: users and onboarding',
  description: 'Learnr user accounts with their onboarding profile embedded in the users table (story 1.2).',
  version: '0.1.0',
  dir: join(import.meta.dirname, '..'),
  schema,
  // The story's pool: pool_size 5 + max_overflow 10. postgres.js opens connections lazily up to this bound.
  defaults: { poolMax: 15 },
  routes: async (app, context) => {
    await app.register(healthRoutes, { prefix: '/api/v1/health', readiness: context.readiness });
    await app.register(usersRoutes, { prefix: '/api/v1/users', users: createUsersRepository(context.db) });
  },
});
