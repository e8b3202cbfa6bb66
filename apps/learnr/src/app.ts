import { join } from 'node:path';
import { defineApp, passwordLoginRoutes, readinessRoutes } from 'groundwork-pg';
import * as schema from './schema.ts';
import { createUsersRepository } from './users/repository.ts';
import { usersRoutes } from './users/routes.ts';

/** What login and recovery need of a user row. */
const toAccount = (row: schema.UserRow | undefined) =>
  row && { id: row.id, hashedPassword: row.hashedPassword, email: row.email };

export default defineApp({
  name: 'learnr',
  title: 'Learnr: users and onboarding',
  description: 'Learnr user accounts with their onboarding profile embedded in the users table.',
  version: '0.1.0',
  license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
  dir: join(import.meta.dirname, '..'),
  schema,
  // The story's pool: pool_size 5 + max_overflow 10. postgres.js opens connections lazily up to this bound.
  defaults: { poolMax: 15 },
  // Learnr owns its users' passwords: they log in by email and call the API with a session token.
  auth: { kind: 'password', sessions: schema.authSessions, resets: schema.authPasswordResets },
  routes: async (app, context) => {
    const users = createUsersRepository(context.db);
    await app.register(readinessRoutes, { prefix: '/api/v1/health', readiness: context.readiness });
    await app.register(passwordLoginRoutes, {
      prefix: '/api/v1',
      loginField: 'email',
      sessions: context.sessions,
      findAccount: async (email) => toAccount(await users.findByEmail({ email })),
      findAccountById: async (id) => toAccount(await users.findById({ id })),
      recovery: context.recovery,
      updatePasswordHash: (id, hashedPassword) => users.setPasswordHash({ id, hashedPassword }),
    });
    await app.register(usersRoutes, { prefix: '/api/v1/users', users });
  },
});
