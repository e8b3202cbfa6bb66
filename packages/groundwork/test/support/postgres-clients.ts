import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll } from 'vitest';

/** The installed postgres.js version, for the adapters' pins. */
export const installedPostgres = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.resolve('postgres')), 'utf8')) as {
    version: string;
  }
).version;

/** A client that never connects: postgres.js opens connections on the first query only. */
export const unconnected = (options: postgres.Options<Record<string, postgres.PostgresType>> = {}) =>
  postgres('postgres://nobody@127.0.0.1:9/none', { fetch_types: false, ...options });

/** Opens one-connection clients on the server at `url`, all ended after the suite. */
export function serverClients(url: string) {
  const clients: postgres.Sql[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end({ timeout: 0 })));
  });
  return (options: postgres.Options<Record<string, postgres.PostgresType>>) => {
    const client = postgres(url, { max: 1, onnotice: () => {}, ...options });
    clients.push(client);
    return client;
  };
}
