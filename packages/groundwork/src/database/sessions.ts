import type { DatabaseHandle, SqlSession } from './open.ts';

/** Runs `work` on one dedicated connection, given back to the pool afterwards even when `work` throws. */
export async function withSession<T>(
  handle: DatabaseHandle,
  work: (session: SqlSession) => Promise<T>,
): Promise<T> {
  const session = await handle.session();
  try {
    return await work(session);
  } finally {
    await session.release();
  }
}

/** Runs `work` between begin and commit on `session`; a throw rolls back and rethrows. */
export async function inTransaction<T>(session: SqlSession, work: () => Promise<T>): Promise<T> {
  await session.query('begin');
  try {
    const result = await work();
    await session.query('commit');
    return result;
  } catch (error) {
    await session.query('rollback').catch(() => {});
    throw error;
  }
}
