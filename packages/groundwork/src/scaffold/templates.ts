/**
 * The files `groundwork new` writes: the shape every app in this repository has (see docs/new-app.md).
 * One resource, users who sign in with an OpenID Connect issuer and own their row, a health route, a test.
 */
export interface TemplateValues {
  name: string;
  /** groundwork-pg's version and the peer ranges it was built against. */
  versions: {
    groundwork: string;
    drizzle: string;
    zod: string;
    vitest: string;
    typescript: string;
    typesNode: string;
  };
}

export function appFiles({ name, versions }: TemplateValues): Record<string, string> {
  return {
    'package.json': `${JSON.stringify(
      {
        name,
        private: true,
        type: 'module',
        scripts: {
          start: `exec groundwork serve ${name}`,
          db: 'groundwork db',
          test: 'vitest run',
          typecheck: 'tsc --noEmit',
        },
        dependencies: {
          'drizzle-orm': versions.drizzle,
          'groundwork-pg': versions.groundwork,
          zod: versions.zod,
        },
        devDependencies: {
          '@types/node': versions.typesNode,
          typescript: versions.typescript,
          vitest: versions.vitest,
        },
      },
      null,
      2,
    )}\n`,
    // Node runs the TypeScript as it is (type stripping), so the compiler only checks: no emit, erasable syntax.
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          allowImportingTsExtensions: true,
          noEmit: true,
          verbatimModuleSyntax: true,
          erasableSyntaxOnly: true,
          types: ['node'],
        },
        include: ['src', 'test'],
      },
      null,
      2,
    )}\n`,
    'vitest.config.ts': `import { testDefaults } from 'groundwork-pg/testing/preset';
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: testDefaults });
`,
    '.env.example': `# ${name} settings. Copy to .env (git-ignored); real environment variables win over this file.
# Leave DATABASE_URL unset to use the embedded PGlite database in .data/${name}/ (no server needed).
# DATABASE_URL=postgres://${name.replace(/-/g, '_')}:changeme@localhost:5432/${name.replace(/-/g, '_')}_dev

# Who may call the API (docs/auth.md). In production set the issuer, or at least operator keys.
# AUTH_ISSUER=https://your-issuer.example.com
# AUTH_AUDIENCE=your-client-id
# ADMIN_API_KEYS=                 # comma-separated, each >= 32 characters (openssl rand -base64 32)

# HOST=127.0.0.1
# PORT=3000
# LOG_LEVEL=info
`,
    'README.md': `# ${name}

A service built on Groundwork: PostgreSQL (or embedded PGlite), Drizzle, Fastify, migrations.

## Run

\`\`\`sh
npm start                          # http://127.0.0.1:3000/docs, embedded database in .data/${name}/
npm test                           # PGlite; with TEST_DATABASE_URL=postgres://... on a server
npx groundwork db revision --autogenerate -m "what changed"   # after editing src/schema.ts
npx groundwork db upgrade          # apply migrations to a server database
\`\`\`

## Calling the API

Users sign in with an OpenID Connect issuer; a token's \`sub\` is the user's \`subject\`. In development:

\`\`\`sh
TOKEN=$(npx groundwork auth token ${name} --sub user_1)
curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
  -d '{"subject":"user_1","email":"ada@example.com","display_name":"Ada"}' localhost:3000/api/v1/users
\`\`\`

In production set \`AUTH_ISSUER\` and \`AUTH_AUDIENCE\` (and \`ADMIN_API_KEYS\` for operators).

| method and path | who | statuses |
| --- | --- | --- |
| \`POST /api/v1/users\` | the token's own subject, or an operator | 201, 400, 401, 403, 409 |
| \`GET /api/v1/users\` | operators | 200, 400, 401, 403 |
| \`GET /api/v1/users/{id}\` | that user, or an operator | 200, 400, 401, 404 |
| \`PATCH /api/v1/users/{id}\` | that user, or an operator | 200, 400, 401, 404 |
| \`DELETE /api/v1/users/{id}\` | that user, or an operator | 204, 400, 401, 404 |
| \`GET /api/v1/health\` | anyone | 200, 503 |
`,
    'src/app.ts': `import { join } from 'node:path';
import { defineApp } from 'groundwork-pg';
import { healthRoutes } from './health/routes.ts';
import * as schema from './schema.ts';
import { createUsersRepository } from './users/repository.ts';
import { usersRoutes } from './users/routes.ts';

export default defineApp({
  name: '${name}',
  title: '${name}',
  dir: join(import.meta.dirname, '..'),
  schema,
  auth: { kind: 'jwt', users: { id: schema.users.id, match: schema.users.subject, claim: 'sub' } },
  routes: async (app, context) => {
    await app.register(healthRoutes, { prefix: '/api/v1/health', readiness: context.readiness });
    await app.register(usersRoutes, { prefix: '/api/v1/users', users: createUsersRepository(context.db) });
  },
});
`,
    'src/schema.ts': `import { pgTable, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

export const EMAIL_MAX = 320;
export const DISPLAY_NAME_MAX = 100;

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** The issuer's user id (a token's \`sub\`): how requests find their user. */
  subject: varchar('subject', { length: 255 }).notNull().unique(),
  email: varchar('email', { length: EMAIL_MAX }).notNull().unique(),
  displayName: varchar('display_name', { length: DISPLAY_NAME_MAX }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
`,
    'src/health/routes.ts': `import { type AppContext, healthRoute, type RoutesPlugin, readinessSchema } from 'groundwork-pg';

/** Database reachable and migrations current: 200, else 503 with the reason. */
export const healthRoutes: RoutesPlugin<Pick<AppContext, 'readiness'>> = async (app, { readiness }) => {
  healthRoute(app, { url: '/', schema: readinessSchema, readiness, body: (report) => report });
};
`,
    'src/users/schemas.ts': `import { offsetPage, offsetPageQuery, safeText } from 'groundwork-pg';
import { z } from 'zod';
import { DISPLAY_NAME_MAX, EMAIL_MAX, type UserRow } from '../schema.ts';

export const Email = safeText()
  .trim()
  .toLowerCase()
  .max(EMAIL_MAX)
  .pipe(z.email('email must be a valid email address'));
export const DisplayName = safeText().trim().min(1).max(DISPLAY_NAME_MAX);

// Ids name the OpenAPI components, so generated clients get named types.
export const UserCreate = z
  .strictObject({
    subject: safeText().min(1).max(255),
    email: Email,
    display_name: DisplayName,
  })
  .meta({ id: 'UserCreate' });
export const UserUpdate = z.strictObject({ display_name: DisplayName }).meta({ id: 'UserUpdate' });
export const UserParams = z.strictObject({ id: z.uuid('id must be a UUID') });
export const UserResponse = z
  .strictObject({
    id: z.uuid(),
    subject: z.string(),
    email: z.string(),
    display_name: z.string(),
    created_at: z.string(),
  })
  .meta({ id: 'UserResponse' });
export type UserResponse = z.infer<typeof UserResponse>;
export const UserListQuery = offsetPageQuery();
export const UserList = offsetPage(UserResponse).meta({ id: 'UserList' });

export function toUserResponse(row: UserRow): UserResponse {
  return {
    id: row.id,
    subject: row.subject,
    email: row.email,
    display_name: row.displayName,
    created_at: row.createdAt.toISOString(),
  };
}
`,
    'src/users/repository.ts': `import { count, desc, eq } from 'drizzle-orm';
import type { Database, Executor } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { type NewUserRow, type UserRow, users } from '../schema.ts';

type Schema = typeof schema;

export function createUsersRepository(db: Database<Schema>) {
  return {
    async create(values: NewUserRow, executor: Executor<Schema> = db): Promise<UserRow> {
      const [row] = await executor.insert(users).values(values).returning();
      return row!;
    },
    async findById(id: string, executor: Executor<Schema> = db): Promise<UserRow | undefined> {
      const [row] = await executor.select().from(users).where(eq(users.id, id));
      return row;
    },
    async update(id: string, changes: Pick<NewUserRow, 'displayName'>, executor: Executor<Schema> = db) {
      const [row] = await executor.update(users).set(changes).where(eq(users.id, id)).returning();
      return row;
    },
    async remove(id: string, executor: Executor<Schema> = db): Promise<boolean> {
      return (await executor.delete(users).where(eq(users.id, id)).returning({ id: users.id })).length > 0;
    },
    /** Newest first; the id breaks ties so pages never overlap. */
    async list({ limit, offset }: { limit: number; offset: number }, executor: Executor<Schema> = db) {
      const [rows, [total]] = await Promise.all([
        executor
          .select()
          .from(users)
          .orderBy(desc(users.createdAt), desc(users.id))
          .limit(limit)
          .offset(offset),
        executor.select({ value: count() }).from(users),
      ]);
      return { rows, count: total?.value ?? 0 };
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
`,
    'src/users/routes.ts': `import {
  ensureOwnClaim,
  ensureOwnUser,
  errorResponses,
  notFound,
  type RoutesPlugin,
} from 'groundwork-pg';
import { z } from 'zod';
import type { UsersRepository } from './repository.ts';
import {
  toUserResponse,
  UserCreate,
  UserList,
  UserListQuery,
  UserParams,
  UserResponse,
  UserUpdate,
} from './schemas.ts';

const tags = ['users'];

export const usersRoutes: RoutesPlugin<{ users: UsersRepository }> = async (app, { users }) => {
  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Register the token holder',
        body: UserCreate,
        // The statuses this code answers; the foundation adds its own (400, 401, 413, 415, 503).
        response: { 201: UserResponse, ...errorResponses(403, 409) },
      },
    },
    async (request, reply) => {
      const { subject, email, display_name } = request.body;
      ensureOwnClaim(request, { field: 'subject', value: subject });
      const row = await users.create({ subject, email, displayName: display_name });
      return reply.status(201).send(toUserResponse(row));
    },
  );

  app.get(
    '/',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Every user, newest first',
        querystring: UserListQuery,
        response: { 200: UserList },
      },
    },
    async (request) => {
      const { rows, count } = await users.list(request.query);
      return { data: rows.map(toUserResponse), count };
    },
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One user',
        params: UserParams,
        response: { 200: UserResponse, ...errorResponses(404) },
      },
    },
    async (request) => {
      ensureOwnUser(request, request.params.id);
      const row = await users.findById(request.params.id);
      if (!row) throw notFound('User');
      return toUserResponse(row);
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Change the display name',
        params: UserParams,
        body: UserUpdate,
        response: { 200: UserResponse, ...errorResponses(404) },
      },
    },
    async (request) => {
      ensureOwnUser(request, request.params.id);
      const row = await users.update(request.params.id, { displayName: request.body.display_name });
      if (!row) throw notFound('User');
      return toUserResponse(row);
    },
  );

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete the user',
        params: UserParams,
        response: { 204: z.null(), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      ensureOwnUser(request, request.params.id);
      if (!(await users.remove(request.params.id))) throw notFound('User');
      return reply.status(204).send(null);
    },
  );
};
`,
    'test/users.test.ts': `import { setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';

const t = setupTestApp(app, { credentials: true });

async function register(subject: string, as = subject) {
  return t.server.inject({
    method: 'POST',
    url: '/api/v1/users',
    headers: await t.userHeaders(as),
    payload: { subject, email: \`\${subject}@example.com\`, display_name: subject },
  });
}

describe('users', () => {
  it('registers the token holder, and only under their own subject', async () => {
    expect((await register('ada')).statusCode).toBe(201);
    const other = await register('bob', 'ada');
    expect(other.statusCode).toBe(403);
    expect(other.json().error.fields[0].field).toBe('subject');
  });

  it("shows and changes one's own user; another user's is 404 and stays as it was", async () => {
    const ada = (await register('ada')).json();
    await register('bob');
    const url = \`/api/v1/users/\${ada.id}\`;
    expect(
      (await t.server.inject({ method: 'GET', url, headers: await t.userHeaders('ada') })).json(),
    ).toEqual(ada);
    const bob = await t.userHeaders('bob');
    const patched = await t.server.inject({
      method: 'PATCH',
      url,
      headers: bob,
      payload: { display_name: 'x' },
    });
    expect(patched.statusCode).toBe(404);
    expect((await t.server.inject({ method: 'DELETE', url, headers: bob })).statusCode).toBe(404);
    const after = await t.server.inject({ method: 'GET', url, headers: t.adminHeaders });
    expect(after.json()).toEqual(ada);
  });

  it('keeps the list for operators and every route from anonymous callers', async () => {
    await register('ada');
    const asUser = await t.server.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: await t.userHeaders('ada'),
    });
    expect(asUser.statusCode).toBe(403);
    const list = await t.server.inject({ method: 'GET', url: '/api/v1/users', headers: t.adminHeaders });
    expect(list.json()).toMatchObject({ count: 1, data: [{ subject: 'ada' }] });
    expect((await t.server.inject({ method: 'GET', url: '/api/v1/users' })).statusCode).toBe(401);
  });

  it('answers health publicly', async () => {
    const health = await t.server.inject({ method: 'GET', url: '/api/v1/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', database: 'connected' });
  });
});
`,
  };
}
