import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { executeRows } from 'groundwork-pg';
import { databaseRefusal, setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import { createBatchesRepository } from '../src/batches/repository.ts';
import { createProjectsRepository } from '../src/projects/repository.ts';
import {
  batches,
  DEFAULT_PREFERENCES,
  generationMetadata,
  projectContents,
  projects,
  users,
} from '../src/schema.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app);

const repos = () => ({
  users: createUsersRepository(t.db),
  batches: createBatchesRepository(t.db),
  projects: createProjectsRepository(t.db),
});

let seq = 0;
async function aUser(overrides: { email?: string; cognitoSub?: string } = {}) {
  seq++;
  return repos().users.create({
    email: overrides.email ?? `consultant${seq}@example.pl`,
    name: `Consultant ${seq}`,
    cognitoSub: overrides.cognitoSub ?? `sub-${seq}-${randomUUID()}`,
  });
}

async function aBatch(totalProjects = 5) {
  const user = await aUser();
  return repos().batches.create({ userId: user.id, name: 'Q3 cards', totalProjects });
}

const SECTIONS = {
  nazwa_projektu: 'Nazwa',
  cel_projektu: 'Cel',
  opis_projektu: 'Opis',
  nowatorstwo: 'Nowatorstwo',
  metodologia: 'Metodologia',
  rezultaty: 'Rezultaty',
  koszty: 'Koszty',
  harmonogram: 'Harmonogram',
};

describe('users repository', () => {
  it('creates a user with a uuid, default preferences and timestamps, storing the email lower-cased', async () => {
    const user = await repos().users.create({
      email: '  Anna.Nowak@Example.PL ',
      name: 'Anna Nowak',
      cognitoSub: 'cognito-anna',
      company: 'Doradztwo Sp. z o.o.',
    });
    expect(user.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(user).toMatchObject({
      email: 'anna.nowak@example.pl',
      name: 'Anna Nowak',
      cognitoSub: 'cognito-anna',
      company: 'Doradztwo Sp. z o.o.',
      preferences: DEFAULT_PREFERENCES,
      lastLoginAt: null,
    });
    expect(user.createdAt).toBeInstanceOf(Date);
    expect(user.updatedAt.getTime()).toBe(user.createdAt.getTime());
    expect((await aUser()).company).toBeNull();
  });

  it('finds a user by id and by email (any case), and returns undefined for unknown ones', async () => {
    const user = await aUser({ email: 'jan@example.pl' });
    const { users: repo } = repos();
    expect((await repo.findById({ id: user.id }))?.email).toBe('jan@example.pl');
    expect((await repo.findByEmail({ email: 'JAN@example.pl' }))?.id).toBe(user.id);
    expect(await repo.findById({ id: randomUUID() })).toBeUndefined();
    expect(await repo.findByEmail({ email: 'nobody@example.pl' })).toBeUndefined();
  });

  it('refuses a second user with the same email (in any case) or Cognito subject', async () => {
    await aUser({ email: 'dup@example.pl', cognitoSub: 'sub-dup' });
    expect(await databaseRefusal(aUser({ email: 'DUP@example.pl' }))).toMatchObject({
      code: '23505',
      constraint: 'users_email_key',
    });
    expect(await databaseRefusal(aUser({ cognitoSub: 'sub-dup' }))).toMatchObject({
      code: '23505',
      constraint: 'users_cognito_sub_key',
    });
    expect(await databaseRefusal(aUser({ email: `${'x'.repeat(250)}@example.pl` }))).toMatchObject({
      code: '22001',
    });
    const [row] = await executeRows<{ total: number }>(t.db, sql`select count(*)::int as total from users`);
    expect(row?.total).toBe(1);
  });

  it('records the last login (the database clock by default) and says undefined for an unknown user', async () => {
    const user = await aUser();
    const { users: repo } = repos();
    const stamped = await repo.updateLastLogin({ id: user.id });
    expect(stamped?.lastLoginAt).toBeInstanceOf(Date);
    expect(stamped!.lastLoginAt!.getTime()).toBeGreaterThanOrEqual(user.createdAt.getTime());
    const at = new Date('2026-01-02T03:04:05.000Z');
    expect((await repo.updateLastLogin({ id: user.id, at }))?.lastLoginAt).toEqual(at);
    expect(await repo.updateLastLogin({ id: randomUUID() })).toBeUndefined();
  });

  it('joins a caller transaction: a rollback leaves nothing behind', async () => {
    const { users: repo, batches: batchRepo } = repos();
    const rolledBack = new Error('rolled back on purpose');
    await expect(
      t.db.transaction(async (tx) => {
        const user = await repo.create({ email: 'tx@example.pl', name: 'Tx', cognitoSub: 'sub-tx' }, tx);
        expect((await repo.findById({ id: user.id }, tx))?.id).toBe(user.id);
        await batchRepo.create({ userId: user.id, name: 'in tx', totalProjects: 1 }, tx);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    expect(await repo.findByEmail({ email: 'tx@example.pl' })).toBeUndefined();
    expect(await executeRows(t.db, sql`select 1 from batches`)).toEqual([]);
  });
});

describe('batches repository', () => {
  it('creates a batch uploading, with no aggregates yet and expires_at exactly created_at + 90 days', async () => {
    const batch = await aBatch(3);
    expect(batch).toMatchObject({
      status: 'uploading',
      totalProjects: 3,
      completedProjects: 0,
      averageQualityScore: null,
    });
    const [row] = await executeRows<{ gap: string }>(
      t.db,
      sql`select (expires_at - created_at)::text as gap from batches where id = ${batch.id}`,
    );
    expect(row!.gap).toBe('90 days');
    expect(batch.expiresAt.getTime() - batch.createdAt.getTime()).toBe(90 * 86_400_000);
  });

  it('refuses 0 or 21 projects, and an unknown user', async () => {
    const user = await aUser();
    const { batches: repo } = repos();
    for (const totalProjects of [0, 21]) {
      expect(
        await databaseRefusal(repo.create({ userId: user.id, name: 'bad', totalProjects })),
      ).toMatchObject({
        code: '23514',
        constraint: 'batches_total_projects_check',
      });
    }
    expect(
      await databaseRefusal(repo.create({ userId: randomUUID(), name: 'orphan', totalProjects: 1 })),
    ).toMatchObject({
      code: '23503',
    });
  });

  it('finds a batch by id, inside a transaction too, and undefined for an unknown id', async () => {
    const batch = await aBatch();
    const { batches: repo } = repos();
    expect((await repo.findById({ id: batch.id }))?.name).toBe('Q3 cards');
    await t.db.transaction(async (tx) => {
      expect((await repo.findById({ id: batch.id }, tx))?.id).toBe(batch.id);
    });
    expect(await repo.findById({ id: randomUUID() })).toBeUndefined();
  });

  it("pages through a user's batches newest first, leaving out archived ones and other users'", async () => {
    const user = await aUser();
    const { batches: repo } = repos();
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push(await repo.create({ userId: user.id, name: `b${i}`, totalProjects: 1 }));
    // Distinct, known creation times: b0 oldest ... b4 newest.
    for (const [i, batch] of made.entries()) {
      await t.db
        .update(batches)
        .set({ createdAt: new Date(Date.UTC(2026, 0, 1 + i)) })
        .where(eq(batches.id, batch.id));
    }
    await repo.updateStatus({ id: made[3]!.id, status: 'archived' });
    await aBatch(); // someone else's

    const names = async (page: { limit?: number; offset?: number }) =>
      (await repo.listByUser({ userId: user.id, ...page })).map((b) => b.name);
    expect(await names({})).toEqual(['b4', 'b2', 'b1', 'b0']);
    expect(await names({ limit: 2 })).toEqual(['b4', 'b2']);
    expect(await names({ limit: 2, offset: 2 })).toEqual(['b1', 'b0']);
    expect(await names({ limit: 2, offset: 4 })).toEqual([]);
    expect(await repo.countByUser({ userId: user.id })).toBe(4);
    expect(await repo.listByUser({ userId: randomUUID() })).toEqual([]);
    expect(await repo.countByUser({ userId: randomUUID() })).toBe(0);
  });

  it('updates the status, refuses an unknown one, and says undefined for an unknown batch', async () => {
    const batch = await aBatch();
    const { batches: repo } = repos();
    const queued = await repo.updateStatus({ id: batch.id, status: 'queued' });
    expect(queued?.status).toBe('queued');
    expect(await databaseRefusal(repo.updateStatus({ id: batch.id, status: 'lost' as never }))).toMatchObject(
      {
        code: '23514',
        constraint: 'batches_status_check',
      },
    );
    expect(await repo.updateStatus({ id: randomUUID(), status: 'queued' })).toBeUndefined();
    expect((await repo.findById({ id: batch.id }))?.status).toBe('queued');
  });
});

describe('projects repository', () => {
  it('adds a pending project holding its input data', async () => {
    const batch = await aBatch();
    const project = await repos().projects.add({
      batchId: batch.id,
      rowNumber: 1,
      inputData: { title: 'Nowy sensor', budget: 120000, tags: ['iot'] },
    });
    expect(project).toMatchObject({
      batchId: batch.id,
      rowNumber: 1,
      status: 'pending',
      qualityScore: null,
      aiModel: null,
      inputData: { title: 'Nowy sensor', budget: 120000, tags: ['iot'] },
    });
    expect((await repos().projects.findById({ id: project.id }))?.id).toBe(project.id);
    expect(await repos().projects.findById({ id: randomUUID() })).toBeUndefined();
  });

  it('refuses a row number twice in one batch and a project for an unknown batch', async () => {
    const batch = await aBatch();
    const other = await aBatch();
    const { projects: repo } = repos();
    await repo.add({ batchId: batch.id, rowNumber: 1, inputData: {}, aiModel: 'claude' });
    expect(await databaseRefusal(repo.add({ batchId: batch.id, rowNumber: 1, inputData: {} }))).toMatchObject(
      {
        code: '23505',
        constraint: 'projects_batch_id_row_number_key',
      },
    );
    // The same row number in another batch is fine.
    expect((await repo.add({ batchId: other.id, rowNumber: 1, inputData: {} })).rowNumber).toBe(1);
    expect(
      await databaseRefusal(repo.add({ batchId: randomUUID(), rowNumber: 1, inputData: {} })),
    ).toMatchObject({
      code: '23503',
    });
  });

  it('updates only the fields given, refuses out-of-range scores and unknown statuses', async () => {
    const batch = await aBatch();
    const { projects: repo } = repos();
    const project = await repo.add({ batchId: batch.id, rowNumber: 1, inputData: {} });
    expect(await repo.update({ id: project.id, qualityScore: 87.25 })).toMatchObject({
      qualityScore: 87.25,
      status: 'pending',
    });
    expect(await repo.update({ id: project.id, status: 'generating' })).toMatchObject({
      qualityScore: 87.25,
      status: 'generating',
    });
    expect((await repo.update({ id: project.id }))?.status).toBe('generating');
    expect(await repo.update({ id: project.id, qualityScore: null })).toMatchObject({ qualityScore: null });
    for (const qualityScore of [-1, 100.01]) {
      expect(await databaseRefusal(repo.update({ id: project.id, qualityScore }))).toMatchObject({
        code: '23514',
        constraint: 'projects_quality_score_check',
      });
    }
    expect(await databaseRefusal(repo.update({ id: project.id, status: 'lost' as never }))).toMatchObject({
      code: '23514',
      constraint: 'projects_status_check',
    });
    expect(await repo.update({ id: randomUUID(), status: 'failed' })).toBeUndefined();
  });

  it('removes a project once', async () => {
    const batch = await aBatch();
    const { projects: repo } = repos();
    const project = await repo.add({ batchId: batch.id, rowNumber: 1, inputData: {} });
    expect(await repo.remove({ id: project.id })).toBe(true);
    expect(await repo.remove({ id: project.id })).toBe(false);
    expect(await repo.findById({ id: project.id })).toBeUndefined();
  });
});

describe('batch aggregates trigger', () => {
  const aggregates = async (id: string) => {
    const batch = await repos().batches.findById({ id });
    return { average: batch!.averageQualityScore, completed: batch!.completedProjects };
  };

  it('averages the non-null scores and counts completed, reviewed and exported projects', async () => {
    const batch = await aBatch(5);
    const bystander = await aBatch(1);
    const { projects: repo } = repos();
    // Concurrent on a server: writers to one batch must queue on it, neither deadlock nor miss a row.
    const [p1, p2, p3, p4] = await Promise.all(
      [1, 2, 3, 4].map((rowNumber) => repo.add({ batchId: batch.id, rowNumber, inputData: {} })),
    );
    expect(await aggregates(batch.id)).toEqual({ average: null, completed: 0 });

    await repo.update({ id: p1!.id, qualityScore: 80, status: 'completed' });
    expect(await aggregates(batch.id)).toEqual({ average: 80, completed: 1 });
    await repo.update({ id: p2!.id, qualityScore: 90, status: 'reviewed' });
    await repo.update({ id: p3!.id, qualityScore: 75.5, status: 'failed' });
    // (80 + 90 + 75.5) / 3 = 81.8333 -> numeric(5,2)
    expect(await aggregates(batch.id)).toEqual({ average: 81.83, completed: 2 });

    await repo.update({ id: p2!.id, qualityScore: 60 }); // changed: (80 + 60 + 75.5) / 3 = 71.83
    expect(await aggregates(batch.id)).toEqual({ average: 71.83, completed: 2 });
    await repo.update({ id: p1!.id, qualityScore: null }); // nulled: (60 + 75.5) / 2
    expect(await aggregates(batch.id)).toEqual({ average: 67.75, completed: 2 });
    await repo.update({ id: p4!.id, status: 'exported' });
    expect(await aggregates(batch.id)).toEqual({ average: 67.75, completed: 3 });

    await repo.remove({ id: p3!.id }); // deleted: only 60 is left
    expect(await aggregates(batch.id)).toEqual({ average: 60, completed: 3 });
    await repo.update({ id: p2!.id, qualityScore: null }); // no score left at all
    expect(await aggregates(batch.id)).toEqual({ average: null, completed: 3 });
    await repo.update({ id: p1!.id, status: 'generating' }); // completed -> back in progress
    expect(await aggregates(batch.id)).toEqual({ average: null, completed: 2 });

    expect(await aggregates(bystander.id)).toEqual({ average: null, completed: 0 });
  });

  it('stays exact when many projects of one batch are scored at the same time', async () => {
    const batch = await aBatch(20);
    const { projects: repo } = repos();
    const added = await Promise.all(
      Array.from({ length: 20 }, (_, i) => repo.add({ batchId: batch.id, rowNumber: i + 1, inputData: {} })),
    );
    // Scores 1..20 (mean 10.5), every other project completed.
    await Promise.all(
      added.map((project, i) =>
        repo.update({ id: project.id, qualityScore: i + 1, status: i % 2 ? 'completed' : 'failed' }),
      ),
    );
    expect(await aggregates(batch.id)).toEqual({ average: 10.5, completed: 10 });
  });

  it('recomputes both batches when a project moves between them', async () => {
    const from = await aBatch();
    const to = await aBatch();
    const { projects: repo } = repos();
    const moving = await repo.add({ batchId: from.id, rowNumber: 1, inputData: {} });
    await repo.update({ id: moving.id, qualityScore: 50, status: 'completed' });
    await t.db.update(projects).set({ batchId: to.id }).where(eq(projects.id, moving.id));
    expect(await aggregates(from.id)).toEqual({ average: null, completed: 0 });
    expect(await aggregates(to.id)).toEqual({ average: 50, completed: 1 });
  });
});

describe('database-kept invariants', () => {
  it('rewrites updated_at on every update of every table that has it', async () => {
    const batch = await aBatch();
    const project = await repos().projects.add({ batchId: batch.id, rowNumber: 1, inputData: {} });
    await t.db.insert(projectContents).values({ projectId: project.id, sections: SECTIONS });
    for (const table of ['users', 'batches', 'projects', 'project_contents']) {
      // Even a writer that sets updated_at explicitly gets the database's clock.
      await t.db.execute(sql`update ${sql.identifier(table)} set updated_at = '2000-01-01T00:00:00Z'`);
      const rows = await executeRows<{ year: number }>(
        t.db,
        sql`select extract(year from updated_at)::int as year from ${sql.identifier(table)}`,
      );
      expect(rows.length, table).toBeGreaterThan(0);
      for (const row of rows) expect(row.year, table).toBeGreaterThan(2000);
    }
  });

  it('gives generation metadata its defaults and a content row its first version', async () => {
    const batch = await aBatch();
    const project = await repos().projects.add({ batchId: batch.id, rowNumber: 1, inputData: {} });
    const [metadata] = await t.db.insert(generationMetadata).values({ projectId: project.id }).returning();
    expect(metadata).toMatchObject({
      attempts: 0,
      totalInputTokens: 0,
      totalOutputTokens: 0,
      totalCostEur: 0,
      averageLatencyMs: null,
      modelUsed: null,
      errors: [],
      completedAt: null,
    });
    const [content] = await t.db
      .insert(projectContents)
      .values({ projectId: project.id, sections: SECTIONS })
      .returning();
    expect(content).toMatchObject({ version: 1, lastEditedSection: null, sections: SECTIONS });
    // One content row per project: project_id is the primary key.
    expect(
      await databaseRefusal(
        t.db.insert(projectContents).values({ projectId: project.id, sections: SECTIONS }),
      ),
    ).toMatchObject({ code: '23505' });
  });

  it('cascades deletes: user -> batches -> projects -> contents and generation metadata', async () => {
    const { projects: repo } = repos();
    const kept = await aBatch();
    const keptProject = await repo.add({ batchId: kept.id, rowNumber: 1, inputData: {} });
    const batch = await aBatch();
    const doomed = [];
    for (const rowNumber of [1, 2, 3]) {
      const project = await repo.add({ batchId: batch.id, rowNumber, inputData: {} });
      await t.db.insert(projectContents).values({ projectId: project.id, sections: SECTIONS });
      await t.db.insert(generationMetadata).values({ projectId: project.id, attempts: 1 });
      doomed.push(project);
    }
    const counts = async () => {
      const [row] = await executeRows<Record<string, number>>(
        t.db,
        sql`select (select count(*)::int from users) as users, (select count(*)::int from batches) as batches,
                   (select count(*)::int from projects) as projects,
                   (select count(*)::int from project_contents) as contents,
                   (select count(*)::int from generation_metadata) as metadata`,
      );
      return row;
    };
    expect(await counts()).toEqual({ users: 2, batches: 2, projects: 4, contents: 3, metadata: 3 });

    // A project takes its content and metadata with it.
    await repo.remove({ id: doomed[0]!.id });
    expect(await counts()).toEqual({ users: 2, batches: 2, projects: 3, contents: 2, metadata: 2 });

    // A user takes everything below it, and nothing of anyone else's.
    await t.db.delete(users).where(eq(users.id, batch.userId));
    expect(await counts()).toEqual({ users: 1, batches: 1, projects: 1, contents: 0, metadata: 0 });
    expect(await repo.findById({ id: keptProject.id })).toBeDefined();
  });
});
