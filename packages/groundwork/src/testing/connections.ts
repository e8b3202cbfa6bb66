import { setTimeout as sleep } from 'node:timers/promises';
import { withAdminConnection } from '../database/admin.ts';

/**
 * Has the server end every other connection to the database of `url` (only those of `applicationName`, when
 * given) and waits until their backends are gone, then a moment for the app's pool to read the closes: a
 * recovery test then meets closed connections, not a backend still exiting (a statement sent to one may have
 * run, so it is not retried). Returns the process ids it ended. A server only: PGlite has no connections.
 */
export async function terminateConnections(
  url: string,
  options: { applicationName?: string } = {},
): Promise<number[]> {
  const applicationName = options.applicationName ?? null;
  return withAdminConnection(url, async (sql) => {
    // The victims are picked first: in a WHERE clause the planner may call pg_terminate_backend on any row.
    const victims = await sql<{ pid: number }[]>`
      with victims as materialized (
        select pid from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid()
           and (${applicationName}::text is null or application_name = ${applicationName}::text))
      select pid from victims where pg_terminate_backend(pid)`;
    const pids = victims.map((victim) => victim.pid);
    // pg_terminate_backend only signals.
    for (let waited = 0; waited < 5000; waited += 20) {
      const [row] = await sql<{ left: number }[]>`
        select count(*)::int as left from pg_stat_activity where pid = any(${pids}::int[])`;
      if (row?.left === 0) break;
      await sleep(20);
    }
    await sleep(100);
    return pids;
  });
}
