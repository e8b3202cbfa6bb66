import postgres from 'postgres';
import { serverConnection } from './postgres.ts';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function assertIdentifier(name: string): void {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`Database name "${name}" must be lowercase letters, digits and _ (at most 63).`);
  }
}

/** Runs `work` on a single short-lived connection to the server's maintenance database named in `url`. */
export async function withAdminConnection<T>(
  url: string,
  work: (sql: postgres.Sql) => Promise<T>,
): Promise<T> {
  const connection = serverConnection(url);
  const sql = postgres(connection.url, {
    ssl: connection.ssl,
    max: 1,
    onnotice: () => {},
    connect_timeout: 10,
  });
  try {
    return await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Creates `database` on the server of `url` unless it exists; returns whether it created it. */
export async function ensureDatabase(url: string, database: string, template?: string): Promise<boolean> {
  assertIdentifier(database);
  if (template) assertIdentifier(template);
  return withAdminConnection(url, async (sql) => {
    const [existing] = await sql`select 1 from pg_database where datname = ${database}`;
    if (existing) return false;
    try {
      await sql.unsafe(`create database "${database}"${template ? ` template "${template}"` : ''}`);
      return true;
    } catch (error) {
      // Another process created it between the check and the create.
      if ((error as { code?: string }).code === '42P04') return false;
      throw error;
    }
  });
}

export async function dropDatabase(url: string, database: string): Promise<void> {
  assertIdentifier(database);
  await withAdminConnection(url, (sql) => sql.unsafe(`drop database if exists "${database}" with (force)`));
}
