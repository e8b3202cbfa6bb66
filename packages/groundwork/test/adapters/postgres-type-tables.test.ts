/**
 * adapters/postgres-type-tables.ts gives a replica's postgres.js client its primary's type tables by
 * emptying its own and swapping their prototypes. This file pins the postgres.js version it was written
 * for, checks the tables' shape without a server and, on a server, that a connection finds a parser through
 * the prototype. When it fails after an upgrade, re-read postgres.js's src/types.js (how the tables are made)
 * and src/connection.js (how rows and parameters look types up, and how array types are added) against the
 * adapter.
 */
import { describe, expect, it } from 'vitest';
import { shareTypeTables } from '../../src/adapters/postgres-type-tables.ts';
import { installedPostgres, serverClients, unconnected } from '../support/postgres-clients.ts';

const WRITTEN_FOR = '3.4.9';
const RECHECK =
  "adapters/postgres-type-tables.ts relies on postgres.js's options.parsers/serializers: re-check them";

const TIMESTAMPTZ = 1184;
const INT4_ARRAY = 1007;

describe(`adapters/postgres-type-tables.ts, written for postgres ${WRITTEN_FOR}`, () => {
  it('runs on the postgres.js version it was written for', () => {
    expect(installedPostgres, `postgres is ${installedPostgres}, not ${WRITTEN_FOR}: ${RECHECK}`).toBe(
      WRITTEN_FOR,
    );
  });

  it("keeps a client's type tables as plain objects keyed by OID", () => {
    const sql = unconnected();
    for (const table of [sql.options.parsers, sql.options.serializers]) {
      expect(Object.getPrototypeOf(table), RECHECK).toBe(Object.prototype);
      expect(typeof table[TIMESTAMPTZ], RECHECK).toBe('function');
    }
  });

  it("empties the replica's tables and reads the primary's, including types the primary adds later", () => {
    const primary = unconnected();
    const replica = unconnected();
    shareTypeTables(replica, primary);
    for (const [own, shared] of [
      [replica.options.parsers, primary.options.parsers],
      [replica.options.serializers, primary.options.serializers],
    ] as const) {
      expect(Object.keys(own)).toEqual([]);
      expect(own[TIMESTAMPTZ]).toBe(shared[TIMESTAMPTZ]);
      expect(TIMESTAMPTZ in own).toBe(true);
    }
    const loaded = (value: unknown) => value;
    primary.options.parsers[INT4_ARRAY] = loaded;
    expect(replica.options.parsers[INT4_ARRAY]).toBe(loaded);
  });

  const url = process.env.TEST_DATABASE_URL;
  describe.skipIf(!url)('on a server (TEST_DATABASE_URL)', () => {
    const open = serverClients(url!);

    it("parses rows on the replica's connection with a type only the primary's connection loaded", async () => {
      const statement = "select array[1, 2]::int4[] as numbers, '2026-11-22 07:34:35+00'::timestamptz as at";
      const primary = open({});
      await primary.unsafe('select 1');
      const alone = open({ fetch_types: false });
      const replica = open({ fetch_types: false });
      shareTypeTables(replica, primary);
      const [unshared] = await alone.unsafe(statement);
      // Without the primary's tables an array type arrives as text: the case the adapter exists for.
      expect(unshared!.numbers).toBe('{1,2}');
      const [shared] = await replica.unsafe(statement);
      expect(shared!.numbers, RECHECK).toEqual([1, 2]);
      expect(shared!.at, RECHECK).toEqual(new Date('2026-11-22T07:34:35Z'));
    });
  });
});
