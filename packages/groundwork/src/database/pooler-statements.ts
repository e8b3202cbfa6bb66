import type postgres from 'postgres';
import { timed } from './open.ts';

/**
 * Lists the statements prepared on the server connection that runs it, itself included: run as a named
 * statement, its own row says under which name the server got it.
 */
const PROBE = `select name from pg_prepared_statements where statement like '%gw_pooler_probe%'`;
/** PgBouncer's internal names for the statements it manages (its include/prepare.h). */
const MANAGED_NAME = /^PGBOUNCER_\d+$/;

/**
 * Whether the transaction pooler in front of `client` (a one-connection client with `prepare: true`, ended
 * here) keeps protocol-level named statements itself, as PgBouncer >= 1.21 with max_prepared_statements > 0
 * does: it prepares each under a name of its own, PGBOUNCER_<n>, on whichever server connection a
 * transaction gets. A pooler that passes our name through (PgBouncer before 1.21 or with the setting at 0,
 * another pooler) would leave the statement on one server connection only, so the answer is then false, and
 * false when the probe cannot run. In a transaction, so the cleanup reaches the same server connection.
 */
export async function poolerKeepsNamedStatements(
  client: postgres.Sql,
  timeoutMs: number,
  warn: (message: string) => void,
): Promise<boolean> {
  let managed = false;
  try {
    await timed(async () => {
      // Not client.begin(): postgres.js would name its commit, and leave that name on the server connection.
      // reserve() waits forever for a first connection that loads no types: one is opened before.
      await client.unsafe('select 1');
      const reserved = await client.reserve();
      await reserved.unsafe('begin');
      // Named, and by the extended protocol: postgres.js sends an unsafe() without parameters as a simple
      // query unless told (an option its types leave out).
      const named = { prepare: true, simple: false } as postgres.UnsafeQueryOptions;
      const rows = await reserved.unsafe<{ name: string }[]>(PROBE, [], named);
      const ours = (rows as unknown as { statement: { name: string } }).statement.name;
      managed = rows.length > 0 && rows.every((row) => MANAGED_NAME.test(row.name));
      // Passed through: our name stays on that server connection unless removed. postgres.js names it
      // (letters and digits), so it is no input.
      if (rows.some((row) => row.name === ours)) await reserved.unsafe(`deallocate "${ours}"`);
      await reserved.unsafe('commit');
    }, timeoutMs);
  } catch (error) {
    managed = false;
    warn(
      `warning: could not tell whether DATABASE_URL's pooler keeps named statements (${(error as Error).message}): ` +
        'statements stay unnamed until the process restarts.',
    );
  } finally {
    await client.end({ timeout: 0 });
  }
  return managed;
}
