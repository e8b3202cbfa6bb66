/**
 * Run by test/array-types.test.ts as a process of its own (a crash must end this process, not the test run):
 * opens the app's database at GW_CHILD_URL, runs one statement with array parameters and results on the
 * pool's first connection, then one in a session, and prints the rows with the codes of the attempts that
 * failed (each is tried twice, as a client would after a 503). Exits 0 only if all of it answered.
 */
import { sql } from 'drizzle-orm';
import { databaseErrorOf } from '../../src/database/connection-errors.ts';
import { openDatabase } from '../../src/database/open.ts';
import { executeRows } from '../../src/database/rows.ts';
import { testSettings } from '../../src/testing/settings.ts';
import notes from './notes/src/app.ts';

const failures: (string | undefined)[] = [];
async function twice<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    failures.push(databaseErrorOf(error)?.code);
    return run();
  }
}

const url = process.env.GW_CHILD_URL!;
const handle = await openDatabase(testSettings(notes, { DB_POOL_MAX: '2' }, url), { schema: notes.schema });
try {
  const rows = await twice(() =>
    executeRows(
      handle.db,
      sql`select ${sql.param(['a', 'b'])}::text[] as texts, ${sql.param([1, 2])}::int4[] as numbers,
                 array[1, 2]::int4[] as literal`,
    ),
  );
  const [inSession] = await twice(async () => {
    const session = await handle.session();
    try {
      return await session.query<{ texts: string[] }>("select array['c', 'd']::text[] as texts");
    } finally {
      await session.release();
    }
  });
  console.log(JSON.stringify({ row: rows[0], session: inSession, failures }));
} finally {
  await handle.close();
}
