import { join } from 'node:path';
import { defineApp } from 'groundwork-pg';
import { healthRoutes } from './health/routes.ts';
import * as schema from './schema.ts';
import { developmentKeyNotice, keysOf, verifySecrets } from './secrets.ts';
import { createSessionsRepository } from './sessions/repository.ts';
import { sessionsRoutes } from './sessions/routes.ts';
import { createGmailTokenVault } from './users/gmail-tokens.ts';
import { createUsersRepository } from './users/repository.ts';
import { usersRoutes } from './users/routes.ts';

export default defineApp({
  name: 'mail-agent',
  title: 'Mail Agent: users',
  description: 'Users of Mail Agent with sealed Gmail tokens, their Telegram link and sessions.',
  license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
  dir: join(import.meta.dirname, '..'),
  schema,
  // The story's SQLAlchemy pool: pool_size 20 + max_overflow 10. DB_POOL_MAX overrides it.
  defaults: { poolMax: 30 },
  // Outside development and tests, a missing or placeholder SECRET_KEYS stops the app at start; in
  // development without it, a key is generated once into the data directory (src/secrets.ts).
  requireSecretKeys: true,
  // Google ID tokens: a user is the row whose email is the token's verified `email` (stored lowercased).
  auth: { kind: 'jwt', users: { id: schema.users.id, match: schema.users.email, claim: 'email' } },
  // A malformed SECRET_KEYS, or keys that cannot open the stored tokens, refuse to start (not garbage later).
  verify: async (context) => {
    await verifySecrets(context.settings, context.db);
  },
  routes: async (app, context) => {
    const users = createUsersRepository(context.db);
    const sessions = createSessionsRepository(context.db);
    const { ring, development } = keysOf(context.settings);
    if (development) app.log.info(developmentKeyNotice(development));
    const vault = createGmailTokenVault({ users, ring });
    await app.register(usersRoutes, { prefix: '/api/v1/users', users, vault });
    await app.register(sessionsRoutes, { prefix: '/api/v1/users', sessions, users });
    await app.register(healthRoutes, { prefix: '/api/v1/health', context });
  },
});
