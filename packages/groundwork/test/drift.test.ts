import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unchangedUniqueConstraints } from '../src/migrations/check.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';

let database: TestDatabase<any>;
beforeAll(async () => {
  database = await createTestDatabase(notes);
  const session = await database.handle.session();
  await session.query(
    'create table pairs (a int not null, b int not null, constraint pairs_a_b unique (a, b))',
  );
  await session.release();
});
afterAll(() => database.dispose());

describe('live drift filter for multi-column unique constraints', () => {
  const drop = 'ALTER TABLE "pairs" DROP CONSTRAINT "pairs_a_b";';

  it('treats a drop + re-add of the same columns in the declared order as no drift', async () => {
    const add = 'ALTER TABLE "pairs" ADD CONSTRAINT "pairs_a_b" UNIQUE("a","b");';
    const session = await database.handle.session();
    try {
      expect(await unchangedUniqueConstraints(session, [drop, add])).toEqual(new Set([drop, add]));
    } finally {
      await session.release();
    }
  });

  it('keeps a re-add with other columns or another order as drift', async () => {
    const session = await database.handle.session();
    try {
      for (const columns of ['"b","a"', '"a"']) {
        const add = `ALTER TABLE "pairs" ADD CONSTRAINT "pairs_a_b" UNIQUE(${columns});`;
        expect(await unchangedUniqueConstraints(session, [drop, add])).toEqual(new Set());
      }
    } finally {
      await session.release();
    }
  });
});
