import { join } from 'node:path';
import { defineApp, passwordLoginRoutes } from 'groundwork-pg';
import { healthRoutes } from './health/routes.ts';
import * as schema from './schema.ts';
import { createUsersRepository, type UserRow } from './users/repository.ts';
import { usersRoutes } from './users/routes.ts';

/** What login needs of a user row: a blocked user is refused after the right password. */
const toAccount = (row: UserRow | undefined) =>
  row && { id: row.id, hashedPassword: row.passwordHash, blocked: row.isBlocked };

export default defineApp({
  name: 'counseling',
  title: 'Counseling platform: users',
  description:
    'User store of the counseling platform: accounts named \\domain\\username with argon2id ' +
    'password hashes, blocking, and a database health check.',
  license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
  dir: join(import.meta.dirname, '..'),
  schema,
  // The story's pool: pool_size 5 + max_overflow 10 = at most 15 connections (DB_POOL_MAX overrides it).
  defaults: { poolMax: 15 },
  // Students log in with their \domain\username and password and call the API with a session token.
  auth: { kind: 'password', sessions: schema.authSessions },
  routes: async (app, context) => {
    const users = createUsersRepository(context.db);
    await app.register(healthRoutes, { prefix: '/health', context });
    await app.register(passwordLoginRoutes, {
      prefix: '/api/v1',
      loginField: 'username',
      sessions: context.sessions,
      findAccount: async (username) => toAccount(await users.findByUsername({ username })),
      findAccountById: async (id) => toAccount(await users.findById({ id })),
      updatePasswordHash: (id, passwordHash) => users.setPasswordHash({ id, passwordHash }),
    });
    await app.register(usersRoutes, { prefix: '/api/v1/users', users });
  },
});
