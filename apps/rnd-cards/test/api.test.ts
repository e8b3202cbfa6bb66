import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { serveOnDatabase, setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { batches, projects } from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app);

type Json = Record<string, any>;
async function call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) {
  const response = await t.server.inject({ method, url, payload });
  return { status: response.statusCode, body: response.json() as Json, headers: response.headers };
}

let seq = 0;
/** A registration of a user no other test has, but for `overrides`. */
function newUser(overrides: Json = {}) {
  seq++;
  return {
    email: `doradca${seq}@example.pl`,
    name: `Doradca ${seq}`,
    cognitoSub: `sub-${seq}`,
    ...overrides,
  };
}

async function createUser(overrides: Json = {}) {
  const { status, body } = await call('POST', '/api/v1/users', newUser(overrides));
  expect(status).toBe(201);
  return body;
}

async function createBatch(userId: string, overrides: Json = {}) {
  const { status, body } = await call('POST', '/api/v1/batches', {
    userId,
    name: 'Karty B+R 2026',
    totalProjects: 3,
    ...overrides,
  });
  expect(status).toBe(201);
  return body;
}

const fieldsOf = (body: Json) => (body.error?.fields ?? []).map((f: { field: string }) => f.field);

describe('health and docs', () => {
  it('GET /health says healthy, with the version and a connected database at head', async () => {
    const { status, body } = await call('GET', '/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'healthy', version: '1.0.0', database: 'connected' });
    expect(body.migrations.pending).toBe(0);
    expect(body.error).toBeUndefined();
  });

  it('GET /health answers 503 unhealthy, with a reason and no address, when the database is unreachable', async () => {
    const unreachable = 'postgres://postgres@127.0.0.1:1/nowhere';
    const { server } = await serveOnDatabase(app, unreachable, { DB_CONNECT_TIMEOUT_MS: '1000' });
    try {
      const response = await server.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toMatchObject({
        status: 'unhealthy',
        version: '1.0.0',
        database: 'disconnected',
        reason: expect.stringMatching(/unreachable|timeout/),
      });
      expect(response.body).not.toContain('127.0.0.1');
    } finally {
      await server.close();
    }
  });

  it('serves the OpenAPI document with every route', async () => {
    const { status, body } = await call('GET', '/docs/json');
    expect(status).toBe(200);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/health',
        '/api/v1/users',
        '/api/v1/users/{id}',
        '/api/v1/users/{id}/batches',
        '/api/v1/batches',
        '/api/v1/batches/{id}',
        '/api/v1/batches/{id}/status',
        '/api/v1/batches/{id}/projects',
        '/api/v1/projects/{id}',
      ]),
    );
  });
});

describe('users API', () => {
  it('creates and reads a user without exposing the Cognito subject', async () => {
    const user = await createUser({ email: 'Ewa@Example.pl', company: 'Biuro Rachunkowe' });
    expect(user).toMatchObject({
      email: 'ewa@example.pl',
      company: 'Biuro Rachunkowe',
      preferences: { defaultAiModel: 'claude', language: 'pl', notificationsEnabled: true },
      lastLoginAt: null,
    });
    expect(user).not.toHaveProperty('cognitoSub');
    expect(new Date(user.createdAt).toISOString()).toBe(user.createdAt);
    const { status, body } = await call('GET', `/api/v1/users/${user.id}`);
    expect(status).toBe(200);
    expect(body).toEqual(user);

    await createUsersRepository(t.db).updateLastLogin({ id: user.id, at: new Date('2026-03-04T05:06:07Z') });
    expect((await call('GET', `/api/v1/users/${user.id}`)).body.lastLoginAt).toBe('2026-03-04T05:06:07.000Z');
  });

  it('answers 400 naming the fields, 409 for a taken email, 404 for an unknown id', async () => {
    const bad = await call('POST', '/api/v1/users', { email: 'not-an-email', name: '', cognitoSub: 'x' });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(expect.arrayContaining(['email', 'name']));

    await createUser({ email: 'taken@example.pl' });
    const taken = await call('POST', '/api/v1/users', newUser({ email: 'TAKEN@example.pl' }));
    expect(taken.status).toBe(409);
    expect(fieldsOf(taken.body)).toEqual(['email']);

    expect((await call('GET', `/api/v1/users/${randomUUID()}`)).status).toBe(404);
    const malformed = await call('GET', '/api/v1/users/123');
    expect(malformed.status).toBe(400);
    expect(fieldsOf(malformed.body)).toEqual(['id']);
  });
});

describe('batches API', () => {
  it('creates a batch and reads it back with its aggregates and expiry', async () => {
    const user = await createUser();
    const batch = await createBatch(user.id, { totalProjects: 2 });
    expect(batch).toMatchObject({
      userId: user.id,
      status: 'uploading',
      totalProjects: 2,
      completedProjects: 0,
      averageQualityScore: null,
    });
    expect(Date.parse(batch.expiresAt) - Date.parse(batch.createdAt)).toBe(90 * 86_400_000);
    const { status, body } = await call('GET', `/api/v1/batches/${batch.id}`);
    expect(status).toBe(200);
    expect(body).toEqual(batch);
  });

  it('refuses an out-of-range size (400), an unknown user (404) and reads of unknown batches (404)', async () => {
    const user = await createUser();
    const tooBig = await call('POST', '/api/v1/batches', { userId: user.id, name: 'x', totalProjects: 21 });
    expect(tooBig.status).toBe(400);
    expect(fieldsOf(tooBig.body)).toEqual(['totalProjects']);
    const orphan = await call('POST', '/api/v1/batches', {
      userId: randomUUID(),
      name: 'x',
      totalProjects: 1,
    });
    expect(orphan.status).toBe(404);
    expect(orphan.body.error.code).toBe('not_found');
    expect((await call('GET', `/api/v1/batches/${randomUUID()}`)).status).toBe(404);
  });

  it('changes the status; 400 for an unknown status, 404 for an unknown batch', async () => {
    const batch = await createBatch((await createUser()).id);
    const changed = await call('PATCH', `/api/v1/batches/${batch.id}/status`, { status: 'processing' });
    expect(changed.status).toBe(200);
    expect(changed.body.status).toBe('processing');
    const bad = await call('PATCH', `/api/v1/batches/${batch.id}/status`, { status: 'done' });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['status']);
    expect((await call('PATCH', `/api/v1/batches/${randomUUID()}/status`, { status: 'queued' })).status).toBe(
      404,
    );
  });

  it("lists a user's batches a page at a time, newest first, archived ones left out", async () => {
    const user = await createUser();
    const made: Json[] = [];
    for (let i = 0; i < 4; i++) made.push(await createBatch(user.id, { name: `b${i}` }));
    for (const [i, batch] of made.entries()) {
      await t.db
        .update(batches)
        .set({ createdAt: new Date(Date.UTC(2026, 5, 1 + i)) })
        .where(eq(batches.id, batch.id));
    }
    await call('PATCH', `/api/v1/batches/${made[2]!.id}/status`, { status: 'archived' });

    const first = await call('GET', `/api/v1/users/${user.id}/batches`);
    expect(first.status).toBe(200);
    expect(first.body.count).toBe(3);
    expect(first.body.data.map((b: Json) => b.name)).toEqual(['b3', 'b1', 'b0']);
    const page = await call('GET', `/api/v1/users/${user.id}/batches?limit=2&offset=1`);
    expect(page.body).toMatchObject({ count: 3 });
    expect(page.body.data.map((b: Json) => b.name)).toEqual(['b1', 'b0']);

    const bad = await call('GET', `/api/v1/users/${user.id}/batches?limit=0&offset=-1`);
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(expect.arrayContaining(['limit', 'offset']));
    expect((await call('GET', `/api/v1/users/${randomUUID()}/batches`)).status).toBe(404);
  });
});

describe('projects API', () => {
  it("adds projects and scores them; the batch's aggregates follow", async () => {
    const batch = await createBatch((await createUser()).id, { totalProjects: 3 });
    const added = await call('POST', `/api/v1/batches/${batch.id}/projects`, {
      rowNumber: 1,
      inputData: { nazwa: 'System OCR faktur' },
      aiModel: 'claude',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      batchId: batch.id,
      rowNumber: 1,
      status: 'pending',
      qualityScore: null,
    });
    const second = await call('POST', `/api/v1/batches/${batch.id}/projects`, {
      rowNumber: 2,
      inputData: {},
    });

    const scored = await call('PATCH', `/api/v1/projects/${added.body.id}`, {
      status: 'completed',
      qualityScore: 91.5,
    });
    expect(scored.status).toBe(200);
    expect(scored.body).toMatchObject({ status: 'completed', qualityScore: 91.5 });
    await call('PATCH', `/api/v1/projects/${second.body.id}`, { qualityScore: 70 });
    expect((await call('GET', `/api/v1/batches/${batch.id}`)).body).toMatchObject({
      completedProjects: 1,
      averageQualityScore: 80.75,
    });
    const cleared = await call('PATCH', `/api/v1/projects/${second.body.id}`, { qualityScore: null });
    expect(cleared.body.qualityScore).toBeNull();
    expect((await call('GET', `/api/v1/batches/${batch.id}`)).body.averageQualityScore).toBe(91.5);
  });

  it('409 for a taken row number, 422 beyond the batch size, 404 for an unknown batch, 400 for bad input', async () => {
    const batch = await createBatch((await createUser()).id, { totalProjects: 2 });
    const url = `/api/v1/batches/${batch.id}/projects`;
    expect((await call('POST', url, { rowNumber: 1, inputData: {} })).status).toBe(201);
    const taken = await call('POST', url, { rowNumber: 1, inputData: {} });
    expect(taken.status).toBe(409);
    // Named as the API spells them (issue 11, section 7), not as the columns batch_id, row_number.
    expect(fieldsOf(taken.body)).toEqual(['batchId', 'rowNumber']);
    const beyond = await call('POST', url, { rowNumber: 3, inputData: {} });
    expect(beyond.status).toBe(422);
    expect(fieldsOf(beyond.body)).toEqual(['rowNumber']);
    const unknown = await call('POST', `/api/v1/batches/${randomUUID()}/projects`, {
      rowNumber: 1,
      inputData: {},
    });
    expect(unknown.status).toBe(404);
    const bad = await call('POST', url, { rowNumber: 0, inputData: [1, 2] });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(expect.arrayContaining(['rowNumber', 'inputData']));
    // Nothing of the refused requests was written.
    const { body } = await call('GET', `/api/v1/batches/${batch.id}`);
    expect(body.completedProjects).toBe(0);
  });

  it('refuses an empty or out-of-range update (400) and an unknown project (404)', async () => {
    const batch = await createBatch((await createUser()).id);
    const project = (
      await call('POST', `/api/v1/batches/${batch.id}/projects`, { rowNumber: 1, inputData: {} })
    ).body;
    const empty = await call('PATCH', `/api/v1/projects/${project.id}`, {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.fields[0].message).toMatch(/status, qualityScore/);
    for (const qualityScore of [100.5, -1, 12.345]) {
      const bad = await call('PATCH', `/api/v1/projects/${project.id}`, { qualityScore });
      expect(bad.status, String(qualityScore)).toBe(400);
      expect(fieldsOf(bad.body)).toEqual(['qualityScore']);
    }
    const badStatus = await call('PATCH', `/api/v1/projects/${project.id}`, { status: 'done' });
    expect(fieldsOf(badStatus.body)).toEqual(['status']);
    expect((await call('PATCH', `/api/v1/projects/${randomUUID()}`, { status: 'failed' })).status).toBe(404);
  });
});

describe('hostile input (issue 11)', () => {
  it('409 for a taken Cognito subject names cognitoSub, as the API spells it', async () => {
    await createUser({ cognitoSub: 'sub-taken' });
    const taken = await call('POST', '/api/v1/users', newUser({ cognitoSub: 'sub-taken' }));
    expect(taken.status).toBe(409);
    expect(taken.body.error).toEqual({
      code: 'conflict',
      message: 'cognitoSub already exists',
      fields: [{ field: 'cognitoSub', message: 'already exists' }],
    });
  });

  it('400 naming the field for a NUL in any text field; nothing stored', async () => {
    const nul = 'a\u0000b';
    for (const [field, value] of [
      ['name', nul],
      ['company', nul],
      ['cognitoSub', nul],
    ] as const) {
      const response = await call('POST', '/api/v1/users', {
        email: `${field}@example.pl`,
        name: 'N',
        cognitoSub: `sub-${field}`,
        [field]: value,
      });
      expect(response.status).toBe(400);
      expect(fieldsOf(response.body)).toEqual([field]);
    }
    const user = await createUser();
    const batch = await call('POST', '/api/v1/batches', { userId: user.id, name: nul, totalProjects: 1 });
    expect(fieldsOf(batch.body)).toEqual(['name']);
    const okBatch = await createBatch(user.id);
    const project = await call('POST', `/api/v1/batches/${okBatch.id}/projects`, {
      rowNumber: 1,
      inputData: {},
      aiModel: nul,
    });
    expect(fieldsOf(project.body)).toEqual(['aiModel']);
    expect(await t.db.select().from(projects)).toEqual([]);
  });

  it('bounds inputData: depth, size, NUL and integers beyond 2^53 answer 400 naming it', async () => {
    const user = await createUser();
    const batch = await createBatch(user.id, { totalProjects: 5 });
    const url = `/api/v1/batches/${batch.id}/projects`;
    const send = (inputData: string) =>
      t.server.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: `{"rowNumber":1,"inputData":${inputData}}`,
      });
    const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])));
    for (const [inputData, field] of [
      [deep(10_000), /^inputData(\.a)+$/],
      [deep(40), /^inputData(\.a)+$/],
      [wide, /^inputData$/],
      ['{"note":"a\\u0000b"}', /^inputData\.note$/],
      ['{"n":9007199254740993}', /^inputData\.n$/],
    ] as const) {
      const response = await send(inputData);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.fields).toEqual([
        { field: expect.stringMatching(field), message: expect.any(String) },
      ]);
    }
    expect((await send(deep(31))).statusCode).toBe(201);
  });
});
