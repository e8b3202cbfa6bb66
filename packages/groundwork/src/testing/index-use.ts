import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDefinition } from '../app.ts';
import type { Database } from '../database/open.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';
import { expectIndexScan, recordingExecutor } from './migrations.ts';

export interface IndexUseCase<TSchema extends Record<string, unknown>> {
  /**
   * Runs one repository method (a repository made on `db`) with `executor`, which records its statements,
   * and returns its rows.
   */
  run(executor: Database<TSchema>, db: Database<TSchema>): Promise<readonly unknown[]>;
  /** The index the method's first statement must be answered from, by name or pattern. */
  index: string | RegExp;
  /**
   * Whether the plan may sort the rows its index selected (one user's rows, say); by default it may not, so
   * the index gives the order. An Incremental Sort of equal timestamps passes either way.
   */
  sorts?: boolean;
}

/**
 * The list-query contract of an app: over a seeded database (one per file, built once), each case's first
 * statement is answered from its index, with no sequential scan and, unless `sorts`, no Sort, and returns
 * rows. `seed` runs once; seed enough rows that a full scan would be the cheaper plan without the index.
 */
export function describeIndexUse<TSchema extends Record<string, unknown>>(
  app: AppDefinition<TSchema>,
  {
    seed,
    cases,
  }: { seed(db: Database<TSchema>): Promise<void>; cases: Record<string, IndexUseCase<TSchema>> },
): void {
  describe(`${app.name} list queries use their indexes`, () => {
    let database: TestDatabase<TSchema> | undefined;
    beforeAll(async () => {
      database = await createTestDatabase(app);
      await seed(database.handle.db);
    }, 180_000);
    afterAll(() => database?.dispose());

    for (const [name, { run, index, sorts = false }] of Object.entries(cases)) {
      it(name, async () => {
        const { db } = database!.handle;
        const recorded = recordingExecutor(db);
        expect((await run(recorded.executor, db)).length).toBeGreaterThan(0);
        const plan = JSON.stringify(await expectIndexScan(db, recorded.queries[0]!));
        expect(plan).toMatch(index);
        if (!sorts) expect(plan).not.toContain('"Node Type":"Sort"');
      });
    }
  });
}

/**
 * The cases of an offset-paged list: its first page and a later one, each answered from `index`.
 * `list(page, executor, db)` runs the repository's list method on that page and returns its rows.
 */
export function pageCases<TSchema extends Record<string, unknown>>(
  index: string | RegExp,
  list: (
    page: { limit: number; offset: number },
    executor: Database<TSchema>,
    db: Database<TSchema>,
  ) => Promise<readonly unknown[]>,
): Record<string, IndexUseCase<TSchema>> {
  const at = (offset: number): IndexUseCase<TSchema> => ({
    run: (executor, db) => list({ limit: 10, offset }, executor, db),
    index,
  });
  return { 'the first page': at(0), 'a later page': at(50) };
}
