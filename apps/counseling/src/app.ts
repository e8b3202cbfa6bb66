import { join } from 'node:path';
import { defineApp } from 'groundwork-pg';
import { healthRoutes } from './health/routes.ts';
import * as schema from './schema.ts';
import { createUsersRepository } from './users/repository.ts';
import { usersRoutes } from './users/routes.ts';

export default defineApp({
  name: 'counseling',
  title: 'Counseling platform: users',
  description:
    'User store of the counseling platform (story 002): accounts named \\domain\\username with argon2id ' +
    'password hashes, blocking, and a database health check.',
  dir: join(import.meta.dirname, '..'),
  schema,
  // The story's pool: pool_size 5 + max_overflow 10 = at most 15 connections (DB_POOL_MAX overrides it).
  defaults: { poolMax: 15 },
  routes: async (app, context) => {
    await app.register(healthRoutes, { prefix: '/health', readiness: context.readiness });
    await app.register(usersRoutes, { prefix: '/api/v1/users', users: createUsersRepository(context.db) });
  },
});
