import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AppDefinition, defineApp } from '../src/app.ts';
import { openDatabase } from '../src/database/open.ts';
import { emptyInMemoryPglite } from '../src/database/pglite-cluster.ts';
import { operationIdOf } from '../src/http/openapi.ts';
import { startApp } from '../src/runtime.ts';
import { buildServer } from '../src/server.ts';
import { operationsOf } from '../src/testing/fuzz/openapi.ts';
import { testSettings } from '../src/testing/index.ts';

const pglite = await emptyInMemoryPglite();
afterAll(() => pglite.close());

// The notes app's folder lends a migrations folder; nothing is migrated.
function app(name: string, routes: AppDefinition['routes']): AppDefinition {
  return defineApp({
    name,
    title: name,
    dir: join(import.meta.dirname, 'support', 'notes'),
    schema: {},
    routes,
  });
}

async function serve(apps: AppDefinition[], mount: 'root' | 'prefixed' = 'root', logs?: string[]) {
  const running = [];
  for (const definition of apps) {
    const settings = testSettings(definition);
    const handle = await openDatabase(settings, { schema: {}, pglite });
    running.push(await startApp(definition, { settings, handle, migrate: false, verify: false }));
  }
  return buildServer(running, {
    mount,
    logLevel: logs ? 'error' : 'silent',
    logStream: { write: (line) => logs?.push(line) },
  });
}

async function documentOf(apps: AppDefinition[], mount: 'root' | 'prefixed', prefix = '') {
  const server = await serve(apps, mount);
  try {
    const response = await server.inject({ url: `${prefix}/docs/json` });
    expect(response.statusCode).toBe(200);
    return response.json();
  } finally {
    await server.close();
  }
}

type Operations = Record<string, Record<string, { operationId: string }>>;
const operationIds = (paths: Operations) =>
  Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => `${method} ${path} ${operation.operationId}`),
  );

describe('operationId', () => {
  it('is the method and the path in camel case, a parameter as By<Name>', () => {
    expect(operationIdOf('GET', '/api/v1/users')).toBe('getApiV1Users');
    expect(operationIdOf('PUT', '/api/v1/users/:id/gmail-tokens')).toBe('putApiV1UsersByIdGmailTokens');
    expect(operationIdOf('GET', '/users/by-clerk-id/:clerk_user_id')).toBe('getUsersByClerkIdByClerkUserId');
    expect(operationIdOf('GET', '/files/:name(^\\w+$)')).toBe('getFilesByName');
    expect(operationIdOf('GET', '/')).toBe('get');
  });

  const things = app('things', async (server) => {
    server.get('/things/:id', { schema: { params: z.object({ id: z.string() }) } }, async () => ({}));
    server.post('/things', { schema: { operationId: 'createThing' } }, async () => ({}));
  });

  it('is on every route, the declared one kept, the same at / and under the app prefix', async () => {
    const expected = [
      'get /health/live getHealthLive',
      'get /health/ready getHealthReady',
      'get /things/{id} getThingsById',
      'post /things createThing',
    ];
    expect(operationIds((await documentOf([things], 'root')).paths)).toEqual(expected);
    expect(operationIds((await documentOf([things], 'prefixed', '/things')).paths)).toEqual(expected);
  });

  it('refuses two routes with one id, naming both', async () => {
    const clash = app('clash', async (server) => {
      server.get('/a/:id', async () => ({}));
      server.get('/a/by-id', { schema: { operationId: 'getAById' } }, async () => ({}));
    });
    await expect(serve([clash])).rejects.toThrow(
      `operationId "getAById" of GET /a/by-id is also GET /a/:id's; declare schema.operationId on one`,
    );
  });
});

describe('named components', () => {
  // Two apps name a schema "Thing"; each document has its own.
  const Thing = z
    .object({ id: z.string(), label: z.string().describe('what it is called') })
    .meta({ id: 'Thing' });
  const OtherThing = z.object({ size: z.number() }).meta({ id: 'Thing' });
  const first = app('first', async (server) => {
    server.post(
      '/things',
      { schema: { body: Thing.omit({ id: true }), response: { 201: Thing } } },
      async () => ({ id: '1', label: 'x' }),
    );
    server.get(
      '/things',
      { schema: { response: { 200: z.object({ items: z.array(Thing) }) } } },
      async () => ({
        items: [],
      }),
    );
  });
  const second = app('second', async (server) => {
    server.put('/things', { schema: { body: OtherThing, response: { 200: OtherThing } } }, async () => ({
      size: 1,
    }));
  });

  it('are the schemas with an id that the app’s routes use, nested ones by $ref', async () => {
    const document = await documentOf([first, second], 'prefixed', '/first');
    expect(Object.keys(document.components.schemas).sort()).toEqual(['ErrorBody', 'Readiness', 'Thing']);
    expect(document.components.schemas.Thing).toMatchObject({
      properties: { id: { type: 'string' }, label: { type: 'string', description: 'what it is called' } },
    });
    const things = document.paths['/things'];
    expect(things.post.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Thing',
    });
    expect(things.post.responses['400'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ErrorBody',
    });
    expect(things.get.responses['200'].content['application/json'].schema.properties.items.items).toEqual({
      $ref: '#/components/schemas/Thing',
    });
  });

  it('are per app: another app’s schema of the same name is its own, a request body’s named <id>Input', async () => {
    const document = await documentOf([first, second], 'prefixed', '/second');
    expect(Object.keys(document.components.schemas).sort()).toEqual([
      'ErrorBody',
      'Readiness',
      'Thing',
      'ThingInput',
    ]);
    expect(document.components.schemas.Thing.properties).toEqual({ size: { type: 'number' } });
    expect(document.paths['/things'].put.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ThingInput',
    });
  });

  it('are followed by the hostile-input generator, so it can build valid bodies', async () => {
    const document = await documentOf([first, second], 'prefixed', '/second');
    const [put] = operationsOf(document).filter((o) => o.method === 'PUT');
    expect(put?.body).toMatchObject({ type: 'object', properties: { size: { type: 'number' } } });
  });

  it('refuses two different schemas with one id in an app', async () => {
    const both = app('both', async (server) => {
      server.get('/a', { schema: { response: { 200: Thing } } }, async () => ({ id: '1', label: 'x' }));
      server.get('/b', { schema: { response: { 200: OtherThing } } }, async () => ({ size: 1 }));
    });
    const logs: string[] = [];
    const server = await serve([both], 'root', logs);
    try {
      const response = await server.inject({ url: '/docs/json' });
      expect(response.statusCode).toBe(500);
      expect(logs.join('')).toContain('two different zod schemas have the OpenAPI id \\"Thing\\"');
    } finally {
      await server.close();
    }
  });
});
