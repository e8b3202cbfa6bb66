import { asc } from 'drizzle-orm';
import { setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { type BatchRow, batches, type ProjectRow, projects, type UserRow, users } from '../src/schema.ts';

/**
 * Who may call each route (issue 14), with authentication enforced as in production: Cognito tokens from the
 * test issuer (`sub` = cognito_sub) and an operator key. Ada and Bob each have a batch with one project;
 * every case acts on Bob's rows, so Ada is the stranger and Bob the owner.
 */
const t = setupTestApp(app, { credentials: true });

interface Owned {
  user: UserRow;
  batch: BatchRow;
  project: ProjectRow;
}
interface Seeded {
  ada: Owned;
  bob: Owned;
}
interface Request {
  method: 'GET' | 'POST' | 'PATCH';
  url: string;
  payload?: Record<string, unknown>;
}
interface RouteCase {
  /** As Fastify registered it. */
  route: string;
  /** public: no credential; registration: the body names the caller; owned: Bob's rows. */
  access: 'public' | 'registration' | 'owned';
  request(seeded: Seeded): Request;
  /** The status when the owner, or an operator, sends the request. */
  ok: number;
  /** What a stranger is told is missing. */
  entity?: 'User' | 'Batch' | 'Project';
}

const cases: RouteCase[] = [
  { route: 'GET /health', access: 'public', request: () => ({ method: 'GET', url: '/health' }), ok: 200 },
  {
    route: 'POST /api/v1/users',
    access: 'registration',
    request: () => ({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'carol@example.pl', name: 'Carol', cognitoSub: 'sub-carol' },
    }),
    ok: 201,
  },
  {
    route: 'GET /api/v1/users/:id',
    access: 'owned',
    request: ({ bob }) => ({ method: 'GET', url: `/api/v1/users/${bob.user.id}` }),
    ok: 200,
    entity: 'User',
  },
  {
    route: 'GET /api/v1/users/:id/batches',
    access: 'owned',
    request: ({ bob }) => ({ method: 'GET', url: `/api/v1/users/${bob.user.id}/batches?limit=5` }),
    ok: 200,
    entity: 'User',
  },
  {
    route: 'POST /api/v1/batches',
    access: 'owned',
    request: ({ bob }) => ({
      method: 'POST',
      url: '/api/v1/batches',
      payload: { userId: bob.user.id, name: 'Planted', totalProjects: 1 },
    }),
    ok: 201,
    entity: 'User',
  },
  {
    route: 'GET /api/v1/batches/:id',
    access: 'owned',
    request: ({ bob }) => ({ method: 'GET', url: `/api/v1/batches/${bob.batch.id}` }),
    ok: 200,
    entity: 'Batch',
  },
  {
    route: 'PATCH /api/v1/batches/:id/status',
    access: 'owned',
    request: ({ bob }) => ({
      method: 'PATCH',
      url: `/api/v1/batches/${bob.batch.id}/status`,
      payload: { status: 'processing' },
    }),
    ok: 200,
    entity: 'Batch',
  },
  {
    route: 'POST /api/v1/batches/:id/projects',
    access: 'owned',
    request: ({ bob }) => ({
      method: 'POST',
      url: `/api/v1/batches/${bob.batch.id}/projects`,
      payload: { rowNumber: 2, inputData: { nazwa: 'Planted' } },
    }),
    ok: 201,
    entity: 'Batch',
  },
  {
    route: 'PATCH /api/v1/projects/:id',
    access: 'owned',
    request: ({ bob }) => ({
      method: 'PATCH',
      url: `/api/v1/projects/${bob.project.id}`,
      payload: { status: 'completed', qualityScore: 90 },
    }),
    ok: 200,
    entity: 'Project',
  },
];
const withCredential = cases.filter((c) => c.access !== 'public');
const owned = cases.filter((c) => c.access === 'owned');

async function seedUser(name: string): Promise<Owned> {
  const [user] = await t.db
    .insert(users)
    .values({ email: `${name}@example.pl`, name, cognitoSub: `sub-${name}` })
    .returning();
  const [batch] = await t.db
    .insert(batches)
    .values({ userId: user!.id, name: `${name}'s cards`, totalProjects: 3 })
    .returning();
  const [project] = await t.db
    .insert(projects)
    .values({ batchId: batch!.id, rowNumber: 1, inputData: { nazwa: name } })
    .returning();
  return { user: user!, batch: batch!, project: project! };
}

const seed = async (): Promise<Seeded> => ({ ada: await seedUser('ada'), bob: await seedUser('bob') });

/** Every row the routes can write, to show a refused request wrote nothing. */
const snapshot = async () => ({
  users: await t.db.select().from(users).orderBy(asc(users.id)),
  batches: await t.db.select().from(batches).orderBy(asc(batches.id)),
  projects: await t.db.select().from(projects).orderBy(asc(projects.id)),
});

const send = (request: Request, headers: Record<string, string> = {}) =>
  t.server.inject({ ...request, headers });
const as = (owned: Owned) => t.userHeaders(owned.user.cognitoSub);

describe('who may call each rnd-cards route', () => {
  it('covers every route the server registered for the app', () => {
    expect([...t.routes].sort()).toEqual(cases.map((c) => c.route).sort());
  });

  it.each(cases.filter((c) => c.access === 'public'))('$route is public', async (c) => {
    expect((await send(c.request(await seed()))).statusCode).toBe(c.ok);
  });

  it.each(withCredential)(
    '$route: no credential is a 401 with WWW-Authenticate, nothing written',
    async (c) => {
      const seeded = await seed();
      const before = await snapshot();
      const response = await send(c.request(seeded));
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.json().error.code).toBe('unauthorized');
      expect(await snapshot()).toEqual(before);
    },
  );

  it.each(owned)("$route: Ada on Bob's rows is a 404, nothing written", async (c) => {
    const seeded = await seed();
    const before = await snapshot();
    const response = await send(c.request(seeded), await as(seeded.ada));
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toEqual({ code: 'not_found', message: `${c.entity} not found` });
    expect(await snapshot()).toEqual(before);
  });

  it.each(owned)('$route: a token whose subject has not registered is a 404, nothing written', async (c) => {
    const seeded = await seed();
    const before = await snapshot();
    const response = await send(c.request(seeded), await t.userHeaders('sub-nobody'));
    expect(response.statusCode).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it.each(owned)('$route: Bob on his own rows works', async (c) => {
    const seeded = await seed();
    const response = await send(c.request(seeded), await as(seeded.bob));
    expect(response.statusCode, response.body).toBe(c.ok);
  });

  it.each(cases)('$route: the operator key works', async (c) => {
    const response = await send(c.request(await seed()), t.adminHeaders);
    expect(response.statusCode, response.body).toBe(c.ok);
  });
});

describe('what the owner’s requests did', () => {
  it("Bob's writes land on his rows only, and his list shows only his batches", async () => {
    const { ada, bob } = await seed();
    const before = await snapshot();
    const asBob = await as(bob);
    const batch = (
      await send(
        {
          method: 'POST',
          url: '/api/v1/batches',
          payload: { userId: bob.user.id, name: 'New', totalProjects: 1 },
        },
        asBob,
      )
    ).json();
    expect(batch).toMatchObject({ userId: bob.user.id, name: 'New' });
    await send(
      { method: 'PATCH', url: `/api/v1/projects/${bob.project.id}`, payload: { qualityScore: 80 } },
      asBob,
    );
    const list = await send({ method: 'GET', url: `/api/v1/users/${bob.user.id}/batches` }, asBob);
    expect(
      list
        .json()
        .data.map((b: { id: string }) => b.id)
        .sort(),
    ).toEqual([bob.batch.id, batch.id].sort());
    const after = await snapshot();
    const adaRows = (s: typeof before) => ({
      users: s.users.filter((u) => u.id === ada.user.id),
      batches: s.batches.filter((b) => b.userId === ada.user.id),
      projects: s.projects.filter((p) => p.batchId === ada.batch.id),
    });
    expect(adaRows(after)).toEqual(adaRows(before));
    expect(after.projects.find((p) => p.id === bob.project.id)?.qualityScore).toBe(80);
  });
});

describe('registration', () => {
  const register = (cognitoSub: string) => ({
    method: 'POST' as const,
    url: '/api/v1/users',
    payload: { email: 'carol@example.pl', name: 'Carol', cognitoSub },
  });

  it('registers the caller under the Cognito subject their token names', async () => {
    const response = await send(register('sub-carol'), await t.userHeaders('sub-carol'));
    expect(response.statusCode).toBe(201);
    // From now on the same token finds its user.
    const found = await send(
      { method: 'GET', url: `/api/v1/users/${response.json().id}` },
      await t.userHeaders('sub-carol'),
    );
    expect(found.statusCode).toBe(200);
    expect(found.json()).toMatchObject({ email: 'carol@example.pl' });
  });

  it('refuses a subject other than the token’s with 403 naming cognitoSub, nothing written', async () => {
    await seed();
    const before = await snapshot();
    const response = await send(register('sub-mallory'), await t.userHeaders('sub-carol'));
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toMatchObject({
      code: 'forbidden',
      fields: [{ field: 'cognitoSub', message: 'must match your token' }],
    });
    expect(await snapshot()).toEqual(before);
  });
});
