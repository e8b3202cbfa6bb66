import type postgres from 'postgres';

/**
 * Relies on: postgres.js 3.4 parsing and serializing array types through `options.parsers` and
 * `options.serializers` (keyed by type OID; an array parser marked `.array` is handed the text after the
 * opening brace), mapping element types to array types for `sql.array()` in `options.shared.typeArrayMap`,
 * and building those entries with `arrayParser` and `arraySerializer` from its src/types.js (connection.js
 * `addArrayType`). This file builds the same entries with the same functions.
 *
 * Why: with `fetch_types` on, postgres.js loads the array types as the first query of each new connection and
 * drops the promise of that load, so a connection cut or terminated while it runs ends the process with an
 * unhandled rejection (porsager/postgres#1192, #1223). The pools load them with a query of their own
 * (database/array-types.ts), where a failure is handled, and add them here.
 *
 * Written for postgres 3.4.9: test/adapters/postgres-array-types.test.ts pins that version, compares these
 * entries with the ones postgres.js makes itself, and checks array parameters and results on a server.
 */

/** postgres.js's own query (connection.js `fetchArrayTypes`), without the rows of elements it cannot name. */
export const ARRAY_TYPES = `
  select b.oid, b.typarray
    from pg_catalog.pg_type a
    join pg_catalog.pg_type b on b.oid = a.typelem
   where a.typcategory = 'A'
   group by b.oid, b.typarray
   order by b.oid`;

type Parser = ((value: string) => unknown) & { array?: boolean };
type Serializer = (value: unknown) => unknown;

interface TypeTables {
  parsers: Record<number, Parser>;
  serializers: Record<number, Serializer>;
  shared: { typeArrayMap: Record<number, number> };
}

const { arrayParser, arraySerializer } = (await import(
  new URL('./types.js', import.meta.resolve('postgres')).href
)) as {
  arrayParser: (text: string, parser: Parser | undefined, typarray: number) => unknown;
  arraySerializer: (
    value: unknown,
    serializer: Serializer | undefined,
    options: unknown,
    typarray: number,
  ) => unknown;
};

/** What postgres.js's `addArrayType` does for each row of its query. */
export function addArrayTypes(sql: postgres.Sql, rows: readonly { oid: number; typarray: number }[]): void {
  const options = sql.options as unknown as TypeTables;
  const { parsers, serializers } = options;
  for (const { oid, typarray } of rows) {
    if (parsers[typarray] && serializers[typarray]) continue;
    const parser = parsers[oid];
    options.shared.typeArrayMap[oid] = typarray;
    parsers[typarray] = Object.assign((text: string) => arrayParser(text, parser, typarray), { array: true });
    serializers[typarray] = (value) => arraySerializer(value, serializers[oid], options, typarray);
  }
}
