import type postgres from 'postgres';

/**
 * The connections the server will still accept from the bench's role: max_connections, less the slots it
 * keeps for superusers when the role is not one, less the client connections open now.
 */
export async function connectionRoom(admin: postgres.Sql): Promise<number> {
  const [row] = await admin<{ room: number }[]>`
    select current_setting('max_connections')::int
         - case when (select rolsuper from pg_roles where rolname = current_user) then 0
                else current_setting('superuser_reserved_connections')::int end
         - (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as room`;
  return row!.room;
}

/**
 * Counts the pools of the servers the bench starts against the room the server had before the first: a
 * server at max_connections refuses the rest ("too many clients"), and the runs would measure those refusals
 * instead of the servers.
 */
export function connectionBudget(room: number) {
  let planned = 0;
  return {
    /** Throws, naming the figures, when `connections` more would not fit. */
    reserve(name: string, connections: number): void {
      if (planned + connections > room) {
        throw new Error(
          `${name} would bring the bench's pools to ${planned + connections} connections, but the server ` +
            `has room for ${room} (max_connections, less those open): raise max_connections or point ` +
            'TEST_DATABASE_URL at a server with more room',
        );
      }
      planned += connections;
    },
  };
}
