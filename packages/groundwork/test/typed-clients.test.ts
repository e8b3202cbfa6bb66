import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveAllApps } from '../src/cli/apps.ts';
import { openDatabase } from '../src/database/open.ts';
import { emptyInMemoryPglite } from '../src/database/pglite-cluster.ts';
import { startApp } from '../src/runtime.ts';
import { buildServer } from '../src/server.ts';
import { testSettings } from '../src/testing/index.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = promisify(execFile);

/** A typed fetch over openapi-typescript's `paths`: method, path, parameters, body and answer as documented. */
const CLIENT = `
type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : undefined;
type Parameters<Op> = Op extends { parameters: infer P } ? Pick<P, Extract<keyof P, 'path' | 'query'>> : never;
type Body<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } } ? { body: B } : {};
export type Input<Op> = Parameters<Op> & Body<Op>;
export type Output<Op> = Op extends { responses: infer R } ? Json<R[Extract<keyof R, 200 | 201 | 204>]> : never;

export function client<Paths>(base: string) {
  return async <P extends keyof Paths & string, M extends Method & keyof Paths[P]>(
    method: M,
    path: P,
    input: Input<Paths[P][M]>,
  ): Promise<Output<Paths[P][M]>> => {
    const { path: params = {}, query = {}, body } = input as {
      path?: Record<string, unknown>;
      query?: Record<string, unknown>;
      body?: unknown;
    };
    const url = path.replace(/\\{(\\w+)\\}/g, (_, name: string) => encodeURIComponent(String(params[name])));
    const search = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)]));
    const response = await fetch(\`\${base}\${url}\${search.size > 0 ? \`?\${search}\` : ''}\`, {
      method: method.toUpperCase(),
      headers: { authorization: 'Bearer <token>', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(\`\${method} \${path}: \${response.status}\`);
    return (response.status === 204 ? undefined : await response.json()) as Output<Paths[P][M]>;
  };
}
`;

/**
 * Per app, calls through its generated types: a body, path and query parameters, named components, an
 * operationId, and one call the types must refuse (an unused @ts-expect-error fails too, so `any` cannot pass).
 */
const CALLS: Record<string, string> = {
  counseling: `
const user: components['schemas']['UserPublic'] = await api('post', '/api/v1/users', {
  body: { username: '\\\\campus\\\\jdoe', password: 'correct horse' },
});
const page: Output<operations['getApiV1Users']> = await api('get', '/api/v1/users', { query: { blocked: 'true' } });
const blocked: boolean | undefined = page.data[0]?.is_blocked;
await api('patch', '/api/v1/users/{id}', { path: { id: user.id }, body: { is_blocked: !blocked } });
// @ts-expect-error is_blocked is a boolean
await api('patch', '/api/v1/users/{id}', { path: { id: user.id }, body: { is_blocked: 'yes' } });
`,
  delight: `
const user: components['schemas']['UserPublic'] = await api('post', '/api/v1/users', {
  body: { clerk_user_id: 'user_2abc', email: 'ada@example.com' },
});
const preferences: components['schemas']['PreferencesPublic'] = await api('put', '/api/v1/users/{id}/preferences', {
  path: { id: user.id },
  body: { theme: 'dark' },
});
const found: Output<operations['getApiV1UsersByClerkIdByClerkUserId']> = await api(
  'get',
  '/api/v1/users/by-clerk-id/{clerkUserId}',
  { path: { clerkUserId: user.clerk_user_id } },
);
const theme: string | null | undefined = found.preferences?.theme ?? preferences.theme;
await api('delete', '/api/v1/users/{id}', { path: { id: user.id } });
// @ts-expect-error custom_hours needs start, end and timezone
await api('put', '/api/v1/users/{id}/preferences', { path: { id: user.id }, body: { custom_hours: { start: theme } } });
`,
  learnr: `
const user: components['schemas']['UserResponse'] = await api('post', '/api/v1/users', {
  body: { email: 'ada@example.com', password: 'secret horse 123' },
});
const page: Output<operations['getApiV1Users']> = await api('get', '/api/v1/users', { query: { limit: 10 } });
const level: 'Beginner' | 'Intermediate' | 'Advanced' | null | undefined = page.data[0]?.knowledge_level;
await api('patch', '/api/v1/users/{id}', { path: { id: user.id }, body: { knowledge_level: level ?? null } });
// @ts-expect-error dark_mode is light, dark or auto
await api('patch', '/api/v1/users/{id}', { path: { id: user.id }, body: { dark_mode: 'dim' } });
`,
  'mail-agent': `
const user: components['schemas']['UserPublic'] = await api('post', '/api/v1/users', {
  body: { email: 'ada@example.com' },
});
await api('put', '/api/v1/users/{id}/gmail-tokens', {
  path: { id: user.id },
  body: { access_token: 'a', refresh_token: 'r' },
});
const session: components['schemas']['SessionPublic'] = await api('post', '/api/v1/users/{id}/sessions', {
  path: { id: user.id },
  body: {},
});
const sessions: Output<operations['getApiV1UsersByIdSessions']> = await api('get', '/api/v1/users/{id}/sessions', {
  path: { id: session.user_id },
  query: { limit: 10 },
});
const first: string | undefined = sessions.items[0]?.name;
// @ts-expect-error user ids are numbers
await api('get', '/api/v1/users/{id}', { path: { id: first } });
`,
  'rnd-cards': `
const user: components['schemas']['UserPublic'] = await api('post', '/api/v1/users', {
  body: { email: 'ewa@example.pl', name: 'Ewa', cognitoSub: 'sub-1' },
});
const batch: components['schemas']['BatchPublic'] = await api('post', '/api/v1/batches', {
  body: { userId: user.id, name: 'first', totalProjects: 2 },
});
const project: components['schemas']['ProjectPublic'] = await api('post', '/api/v1/batches/{id}/projects', {
  path: { id: batch.id },
  body: { rowNumber: 1, inputData: { title: 'x' } },
});
const page: Output<operations['getApiV1UsersByIdBatches']> = await api('get', '/api/v1/users/{id}/batches', {
  path: { id: user.id },
  query: { limit: 10 },
});
await api('patch', '/api/v1/projects/{id}', { path: { id: project.id }, body: { qualityScore: page.count } });
// @ts-expect-error no such status
await api('patch', '/api/v1/batches/{id}/status', { path: { id: batch.id }, body: { status: 'lost' } });
`,
};

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: 'es2022',
    module: 'esnext',
    moduleResolution: 'bundler',
    allowImportingTsExtensions: true,
    lib: ['es2022', 'dom'],
    types: [],
  },
};

const definitions = await resolveAllApps(root);
const dir = mkdtempSync(join(tmpdir(), 'groundwork-typed-clients-'));
// The documents need the routes, not data: one empty in-memory database stands in for every app's.
const pglite = await emptyInMemoryPglite();

afterAll(async () => {
  await pglite.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('typed clients from each app’s OpenAPI document', () => {
  it('every app has a client call here', () => {
    expect(Object.keys(CALLS).sort()).toEqual(definitions.map((d) => d.name).sort());
  });

  it('openapi-typescript types type-check a client call for every app', async () => {
    // All apps under their prefixes in one server, as `npm start` serves them: each document must hold only
    // its own app's components, though several apps name a schema UserPublic.
    const apps = [];
    for (const definition of definitions) {
      const settings = testSettings(definition);
      const handle = await openDatabase(settings, { schema: definition.schema, pglite });
      apps.push(await startApp(definition, { settings, handle, migrate: false, verify: false }));
    }
    const server = await buildServer(apps, { logLevel: 'silent', mount: 'prefixed' });
    try {
      writeFileSync(join(dir, 'client.ts'), CLIENT);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
      for (const { name } of definitions) {
        const document = (await server.inject({ url: `/${name}/docs/json` })).json();
        expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['ErrorBody']));
        // Request bodies with a default may be left out; openapi-typescript would otherwise require them.
        const types = astToString(await openapiTS(document, { defaultNonNullable: false }));
        writeFileSync(join(dir, `${name}.ts`), types);
        writeFileSync(
          join(dir, `${name}.client.ts`),
          `import { client, type Output } from './client.ts';\n` +
            `import type { components, operations, paths } from './${name}.ts';\n` +
            `const api = client<paths>('http://127.0.0.1:3000/${name}');\n${CALLS[name]}`,
        );
      }
    } finally {
      await server.close();
    }
    const result = await run(process.execPath, [tsc, '-p', dir]).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
  });
});
