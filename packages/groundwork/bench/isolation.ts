/**
 * Per-test isolation cost, as docs/testing.md reports it. Run: node packages/groundwork/bench/isolation.ts
 * (PGlite), and again with TEST_DATABASE_URL=postgres://... for the server.
 * What setupTestApp's tests wait for: the reset of the file's database after a test body (both backends).
 * For comparison, the server's former way (a database per test from the template, created one ahead while
 * a test runs) and PGlite's (TRUNCATE of every table).
 */
import { sql } from 'drizzle-orm';
import { executeRows } from '../src/database/rows.ts';
import {
  createPgliteTestDatabase,
  createServerTestDatabase,
  serverDatabasePipeline,
  type TestDatabase,
  testBackend,
  truncateAll,
} from '../src/testing/index.ts';
import notes from '../test/support/notes/src/app.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 40);
/** A small test: an API-sized sequence of inserts and reads. */
const TEST_BODY_QUERIES = Number(process.env.TEST_BODY_QUERIES ?? 20);

async function testBody(database: TestDatabase<any>): Promise<void> {
  for (let i = 0; i < TEST_BODY_QUERIES / 2; i++) {
    await executeRows(database.handle.db, sql`insert into authors (email) values (${`u${i}@x.io`})`);
    await executeRows(database.handle.db, sql`select count(*) from authors`);
  }
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  return `${label}: median ${at(0.5)} ms, p90 ${at(0.9)} ms, min ${sorted[0]!.toFixed(1)} ms (n=${samples.length})`;
}

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The harness's per-test wait: the reset after a test body that wrote to the tables. */
async function resetWait(database: TestDatabase<any>): Promise<number[]> {
  const waited: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await testBody(database);
    const started = performance.now();
    if (!(await database.reset())) throw new Error('reset refused: the test body changed no schema');
    waited.push(performance.now() - started);
  }
  return waited;
}

if (testBackend === 'postgres') {
  await createServerTestDatabase(notes).then((db) => db.dispose()); // builds the template once
  const shared = await createServerTestDatabase(notes);
  const resets = await resetWait(shared);
  await shared.dispose();
  console.log(summary(`server: per-test wait, reset after a ${TEST_BODY_QUERIES}-query test body`, resets));
  const create: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let database: Awaited<ReturnType<typeof createServerTestDatabase>> | undefined;
    const createMs = await time(async () => {
      database = await createServerTestDatabase(notes);
      await executeRows(database.handle.db, sql`select 1`);
    });
    const disposeMs = await time(() => database!.dispose());
    create.push(createMs);
    total.push(createMs + disposeMs);
  }
  console.log(summary('server: create from template + first query', create));
  console.log(summary('server: create + drop (whole per-test cost, sequential)', total));
  // What setupTestApp's tests wait for: the pipeline creates the next database during a test.
  const pipeline = serverDatabasePipeline(notes);
  const waited: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let database: Awaited<ReturnType<typeof createServerTestDatabase>> | undefined;
    waited.push(
      await time(async () => {
        database = await pipeline.take();
      }),
    );
    await time(() => testBody(database!));
    waited[waited.length - 1]! += await time(() => database!.dispose());
  }
  await pipeline.close();
  console.log(
    summary(
      `server (former): per-test wait with the pipeline (test body ${TEST_BODY_QUERIES} queries)`,
      waited,
    ),
  );
} else {
  const setupMs = await time(async () => {
    const database = await createPgliteTestDatabase(notes);
    await database.dispose();
  });
  const database = await createPgliteTestDatabase(notes);
  // First: a TRUNCATE outside the reset is a catalog change the reset would refuse.
  const resets = await resetWait(database);
  const reset: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await executeRows(database.handle.db, sql`insert into authors (email) values (${`a${i}@x.io`})`);
    reset.push(await time(() => truncateAll(database.handle)));
  }
  await database.dispose();
  console.log(`pglite: per-file setup (new instance + migrate) ${setupMs.toFixed(0)} ms`);
  console.log(summary(`pglite: per-test wait, reset after a ${TEST_BODY_QUERIES}-query test body`, resets));
  console.log(summary('pglite (former): truncate all tables', reset));
}
