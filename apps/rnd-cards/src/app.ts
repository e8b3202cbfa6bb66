import { join } from 'node:path';
import { defineApp } from 'groundwork-pg';
import { createBatchesRepository } from './batches/repository.ts';
import { batchesRoutes } from './batches/routes.ts';
import { healthRoutes } from './health/routes.ts';
import { createProjectsRepository } from './projects/repository.ts';
import { projectsRoutes } from './projects/routes.ts';
import * as schema from './schema.ts';
import { createUsersRepository } from './users/repository.ts';
import { usersRoutes } from './users/routes.ts';

const VERSION = '1.0.0';

export default defineApp({
  name: 'rnd-cards',
  title: 'R&D project cards',
  description: 'Users, batches of R&D project cards and their generation data.',
  version: VERSION,
  license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
  dir: join(import.meta.dirname, '..'),
  schema,
  // Ids default to uuid_generate_v4(): PGlite must load the extension; on a server the first migration creates it.
  extensions: ['uuid-ossp'],
  // The story's pool: pool_size 20 + max_overflow 10 (DB_POOL_MAX overrides it).
  defaults: { poolMax: 30 },
  // Cognito tokens: `sub` is the user's Cognito subject, which names the user row.
  auth: { kind: 'jwt', users: { id: schema.users.id, match: schema.users.cognitoSub, claim: 'sub' } },
  routes: async (app, context) => {
    const users = createUsersRepository(context.db);
    const batches = createBatchesRepository(context.db);
    const projects = createProjectsRepository(context.db);
    await app.register(healthRoutes, { prefix: '/health', context, version: VERSION });
    await app.register(usersRoutes, { prefix: '/api/v1/users', users, batches });
    await app.register(batchesRoutes, { prefix: '/api/v1/batches', batches, projects });
    await app.register(projectsRoutes, { prefix: '/api/v1/projects', projects });
  },
});
