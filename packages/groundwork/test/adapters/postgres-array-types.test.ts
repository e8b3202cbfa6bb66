/**
 * adapters/postgres-array-types.ts builds postgres.js's array-type entries itself, with postgres.js's own
 * array functions from its src/types.js. This file pins the postgres.js version, and on a server compares
 * those entries with the ones postgres.js makes when it loads the types itself, type by type. When it fails
 * after an upgrade, re-read postgres.js's src/connection.js (`fetchArrayTypes`, `addArrayType`, how a DataRow
 * calls an `.array` parser) and src/types.js (`arrayParser`, `arraySerializer`) against the adapter.
 */
import type postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { ARRAY_TYPES, addArrayTypes } from '../../src/adapters/postgres-array-types.ts';
import { installedPostgres, serverClients, unconnected } from '../support/postgres-clients.ts';

const WRITTEN_FOR = '3.4.9';
const RECHECK = "adapters/postgres-array-types.ts builds postgres.js's array-type entries: re-check them";

type Tables = {
  parsers: Record<number, ((text: string) => unknown) & { array?: boolean }>;
  serializers: Record<number, (value: unknown) => unknown>;
  shared: { typeArrayMap: Record<number, number> };
};
const tables = (sql: postgres.Sql) => sql.options as unknown as Tables;

const INT4 = 23;
const INT4_ARRAY = 1007;

/** Whether a function throws. */
function throws(run: () => unknown): boolean {
  try {
    run();
    return false;
  } catch {
    return true;
  }
}

/**
 * Array texts as postgres.js hands them to an array parser (after the opening brace), with their elements.
 * postgres.js's array parser keeps its state between calls, and an element parser that throws leaves it
 * mid-string: a text is compared only for the types whose element parser takes each of its elements.
 */
const ARRAY_TEXTS: [string, string[]][] = [
  ['1,2}', ['1', '2']],
  ['"a b","c"}', ['a b', 'c']],
  ['{1,2},{3,4}}', ['1', '2', '3', '4']],
  ['}', []],
];

describe(`adapters/postgres-array-types.ts, written for postgres ${WRITTEN_FOR}`, () => {
  it('runs on the postgres.js version it was written for', () => {
    expect(installedPostgres, `postgres is ${installedPostgres}, not ${WRITTEN_FOR}: ${RECHECK}`).toBe(
      WRITTEN_FOR,
    );
  });

  it('adds a parser that postgres.js hands the text after the brace, a serializer and the sql.array() map', () => {
    const sql = unconnected();
    addArrayTypes(sql, [{ oid: INT4, typarray: INT4_ARRAY }]);
    const { parsers, serializers, shared } = tables(sql);
    expect(parsers[INT4_ARRAY]!.array).toBe(true);
    expect(parsers[INT4_ARRAY]!('1,{2,3}}')).toEqual([1, [2, 3]]);
    expect(serializers[INT4_ARRAY]!([1, 2])).toBe('{"1","2"}');
    expect(shared.typeArrayMap[INT4]).toBe(INT4_ARRAY);
  });

  const url = process.env.TEST_DATABASE_URL;
  describe.skipIf(!url)('on a server (TEST_DATABASE_URL)', () => {
    const open = serverClients(url!);

    it('makes the entries postgres.js makes when it loads the types itself, for every array type', async () => {
      const theirs = open({});
      await theirs`select 1`;
      const ours = open({ fetch_types: false });
      addArrayTypes(ours, await open({ fetch_types: false }).unsafe(ARRAY_TYPES));
      const [their, our] = [tables(theirs), tables(ours)];
      expect(our.shared.typeArrayMap, RECHECK).toEqual(their.shared.typeArrayMap);
      expect(Object.keys(our.parsers).sort(), RECHECK).toEqual(Object.keys(their.parsers).sort());
      expect(Object.keys(our.serializers).sort(), RECHECK).toEqual(Object.keys(their.serializers).sort());
      const arrays = Object.entries(their.shared.typeArrayMap);
      expect(arrays.length).toBeGreaterThan(50);
      for (const [oid, typarray] of arrays) {
        expect(our.parsers[typarray]!.array, `${typarray}: ${RECHECK}`).toBe(true);
        const element = their.parsers[Number(oid)];
        for (const [text, elements] of ARRAY_TEXTS) {
          if (element && elements.some((value) => throws(() => element(value)))) continue;
          expect(our.parsers[typarray]!(text), `${typarray} ${text}: ${RECHECK}`).toEqual(
            their.parsers[typarray]!(text),
          );
        }
        for (const value of [['1', '2'], [['a"b'], ['c']], []]) {
          if (throws(() => their.serializers[typarray]!(value))) continue;
          expect(our.serializers[typarray]!(value), `${typarray}: ${RECHECK}`).toEqual(
            their.serializers[typarray]!(value),
          );
        }
      }
    });
  });
});
