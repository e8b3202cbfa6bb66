import type postgres from 'postgres';

/**
 * Relies on: postgres.js 3.4 keeping a client's type parsers and serializers in `options.parsers` and
 * `options.serializers`, plain objects keyed by type OID that every connection reads by property lookup
 * (`parsers[oid]`, `oid in serializers`) and fills in place as it loads array types; so a lookup that misses
 * an own key reaches the object's prototype.
 *
 * Why it is worth it: a replica is a copy of its primary, with the same type OIDs. Its client is opened with
 * `fetch_types: false` and reads the primary's tables (the array types the primary's connections load,
 * Drizzle's own parsers) instead of loading its own, which postgres.js loses as an unhandled rejection when
 * it fails (porsager/postgres#1192): a replica stopping while a connection starts would crash the process.
 *
 * Written for postgres 3.4.9: test/adapters/postgres-type-tables.test.ts pins that version and checks the
 * tables' shape, and on a server that a replica's connection parses an array type only the primary loaded.
 */
export function shareTypeTables(replica: postgres.Sql, primary: postgres.Sql): void {
  for (const table of [replica.options.parsers, replica.options.serializers]) {
    for (const key of Object.keys(table)) delete table[key as unknown as number];
  }
  Object.setPrototypeOf(replica.options.parsers, primary.options.parsers);
  Object.setPrototypeOf(replica.options.serializers, primary.options.serializers);
}
