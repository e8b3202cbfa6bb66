import { expect } from 'vitest';
import { databaseErrorOf } from '../database/connection-errors.ts';

/**
 * The SQLSTATE and constraint the database refused `work` with: proof the database itself enforces a rule. Fails
 * the test when `work` succeeds or fails with something other than a database error.
 */
export async function databaseRefusal(
  work: Promise<unknown>,
): Promise<{ code?: string; constraint?: string }> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the database accepted the write').toBeDefined();
  const db = databaseErrorOf(error);
  expect(db, `not a database error: ${String(error)}`).toBeDefined();
  return { code: db?.code, constraint: db?.constraint_name ?? db?.constraint };
}
