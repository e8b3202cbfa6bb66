import { join } from 'node:path';
import { defineApp } from 'groundwork-pg';
import { createBatchesRepository } from './batches/repository.ts';
import { registerBatchesRoutes } from './batches/routes.ts';
import { registerHealthRoutes } from './health/routes.ts';
import { createProjectsRepository } from './projects/repository.ts';
import { registerProjectsRoutes } from './projects/routes.ts';
import * as schema from './schema.ts';
import { createUsersRepository } from './users/repository.ts';
import { registerUsersRoutes } from './users/routes.ts';

const VERSION = '1.0.0';

export default defineApp({
  name: 'rnd-cards',
  title: 'R&D project cards',
  description: 'Users, batches of R&D project cards and their generation data (story 004).',
  version: VERSION,
  dir: join(import.meta.dirname, '..'),
  schema,
  // Ids default to uuid_generate_v4(): PGlite must load the extension; on a server the first migration creates it.
  extensions: ['uuid-ossp'],
  // The story's pool: pool_size 20 + max_overflow 10 (DB_POOL_MAX overrides it).
  defaults: { poolMax: 30 },
  routes: async (app, context) => {
    const repositories = {
      users: createUsersRepository(context.db),
      batches: createBatchesRepository(context.db),
      projects: createProjectsRepository(context.db),
    };
    registerHealthRoutes(app, context, VERSION);
    registerUsersRoutes(app, repositories);
    registerBatchesRoutes(app, repositories);
    registerProjectsRoutes(app, repositories);
  },
});
