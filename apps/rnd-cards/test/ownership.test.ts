/** Who may call each route, from what each declares (groundwork-pg/testing's `describeOwnership`). */
import { eq } from 'drizzle-orm';
import { describeOwnership, setupTestApp } from 'groundwork-pg/testing';
import app from '../src/app.ts';
import { batches, projects, users } from '../src/schema.ts';

const t = setupTestApp(app, { credentials: true });
let count = 0;
const patch = (url: string, payload: object) => ({ method: 'PATCH' as const, url, payload });

describeOwnership(t, {
  user: async () => {
    const name = `user${++count}`;
    const values = { email: `${name}@x.pl`, name, cognitoSub: `sub-${name}` };
    const [user] = await t.db.insert(users).values(values).returning();
    const [batch] = await t.db
      .insert(batches)
      .values({ userId: user!.id, name, totalProjects: 3 })
      .returning();
    const [project] = await t.db
      .insert(projects)
      .values({ batchId: batch!.id, rowNumber: 1, inputData: { nazwa: name } })
      .returning();
    return { credential: values.cognitoSub, id: user!.id, batch: batch!.id, project: project!.id };
  },
  unregistered: 'sub-nobody',
  state: async ({ batch }) => ({
    batch: await t.db.select().from(batches).where(eq(batches.id, batch)),
    projects: await t.db.select().from(projects).where(eq(projects.batchId, batch)),
  }),
  requests: {
    'GET /health': () => ({ url: '/health' }),
    'POST /api/v1/users': ({ credential }) => ({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: `${credential}@example.pl`, name: 'New', cognitoSub: credential },
    }),
    'GET /api/v1/users/:id': ({ id }) => ({ url: `/api/v1/users/${id}` }),
    'GET /api/v1/users/:id/batches': ({ id }) => ({ url: `/api/v1/users/${id}/batches?limit=5` }),
    'POST /api/v1/batches': ({ id }) => ({
      method: 'POST',
      url: '/api/v1/batches',
      payload: { userId: id, name: 'Planted', totalProjects: 1 },
    }),
    'GET /api/v1/batches/:id': (user) => ({ url: `/api/v1/batches/${user.batch}` }),
    'PATCH /api/v1/batches/:id/status': ({ batch }) =>
      patch(`/api/v1/batches/${batch}/status`, { status: 'processing' }),
    'POST /api/v1/batches/:id/projects': ({ batch }) => ({
      method: 'POST',
      url: `/api/v1/batches/${batch}/projects`,
      payload: { rowNumber: 2, inputData: { nazwa: 'Planted' } },
    }),
    'PATCH /api/v1/projects/:id': ({ project }) => patch(`/api/v1/projects/${project}`, { qualityScore: 90 }),
  },
});
