/**
 * adapters/postgres-one-trip.ts makes postgres.js send an unnamed parameterised statement in one write (Parse,
 * Describe, Bind, Execute, Sync) instead of describing it first. This file pins the postgres.js version and,
 * on a server, counts the writes a statement takes: two by postgres.js itself (if that becomes one, the
 * adapter is no longer needed), one with the adapter, two again for parameters that need the server's type;
 * and the rows are the same both ways for every kind of parameter. When it fails after an upgrade, re-read
 * postgres.js's src/connection.js `build`, `toBuffer`, `unnamed`, `Bind` and `ParameterDescription`.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { inOneRoundTrip, oneRoundTripScope } from '../../src/adapters/postgres-one-trip.ts';

const WRITTEN_FOR = '3.4.9';
const RECHECK = "adapters/postgres-one-trip.ts relies on postgres.js's q.describeFirst: re-check it";
const installed = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.resolve('postgres')), 'utf8')) as {
    version: string;
  }
).version;
const serverUrl = process.env.TEST_DATABASE_URL;

/**
 * Every kind of parameter our stack sends, as Drizzle hands them over (a timestamp, json and an array as the
 * text it made), with a statement that returns each as the server read it.
 */
const KINDS = `select $1::text as text, $2::int as int, $3::numeric as numeric, $4::boolean as boolean,
  $5::timestamptz as at, $6::bytea as bytes, $7::int8 as big, $8::uuid as id, $9::jsonb as json,
  $10::text[] as list, $11::text as missing, $12::date as day, $13::text as quoted`;
const VALUES = [
  'plain',
  42,
  '12.50',
  true,
  '2026-12-07T21:00:00.123Z',
  Buffer.from([0, 1, 254, 255]),
  9007199254740993n,
  '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
  '{"a": [1, null, "x"]}',
  '{"a b","c,d"}',
  null,
  '2026-12-07',
  'it\'s "quoted" \\ here',
];

describe(`adapters/postgres-one-trip.ts, written for postgres ${WRITTEN_FOR}`, () => {
  it('runs on the postgres.js version it was written for', () => {
    expect(installed, `postgres is ${installed}, not ${WRITTEN_FOR}: ${RECHECK}`).toBe(WRITTEN_FOR);
  });

  describe.skipIf(!serverUrl)('on a server (TEST_DATABASE_URL)', () => {
    const clients: postgres.Sql[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((client) => client.end()));
    });

    /** A one-connection client with unnamed statements, set up by Drizzle, whose socket writes are counted. */
    async function counted(options: postgres.Options<Record<string, postgres.PostgresType>> = {}) {
      const { hostname, port } = new URL(serverUrl!);
      let writes = 0;
      const sql = postgres(serverUrl!, {
        max: 1,
        prepare: false,
        ssl: false,
        onnotice: () => {},
        socket: () => {
          const socket: Socket = connect(Number(port || 5432), hostname.replace(/^\[|\]$/g, ''));
          const write = socket.write;
          socket.write = function (this: Socket, ...args: unknown[]) {
            writes++;
            return (write as (...a: unknown[]) => boolean).apply(this, args);
          } as Socket['write'];
          return socket;
        },
        ...options,
      } as postgres.Options<Record<string, postgres.PostgresType>>);
      clients.push(sql);
      // As every pool of ours: Drizzle passes json and date parameters through as the text it made.
      drizzle(sql);
      await sql.unsafe('select 1');
      return {
        sql,
        /** How many writes `run` took. */
        async writesOf<T>(run: () => PromiseLike<T>): Promise<{ writes: number; result: T }> {
          const before = writes;
          const result = await run();
          return { writes: writes - before, result };
        },
      };
    }

    it('takes two writes for an unnamed parameterised statement by itself, one with the adapter', async () => {
      const { sql, writesOf } = await counted();
      const statement = 'select $1::int + 1 as n, $2 as label';
      const plain = await writesOf(() => sql.unsafe(statement, [41, 'x']));
      expect(plain.writes, `postgres.js now sends it in one write: ${RECHECK}`).toBe(2);
      const oneTrip = await writesOf(() => inOneRoundTrip(sql.unsafe(statement, [41, 'x'])));
      expect(oneTrip.writes, RECHECK).toBe(1);
      expect([...oneTrip.result]).toEqual([...plain.result]);
      expect([...oneTrip.result]).toEqual([{ n: 42, label: 'x' }]);
    });

    it('keeps the describe for a parameter whose text form needs the server type (an array)', async () => {
      const { sql, writesOf } = await counted();
      const array = await writesOf(() => inOneRoundTrip(sql.unsafe('select $1::int[] as a', [[1, 2]])));
      expect(array.writes).toBe(2);
      expect([...array.result]).toEqual([{ a: [1, 2] }]);
    });

    it('reads every kind of parameter the same in one write as after a describe', async () => {
      const { sql, writesOf } = await counted();
      const plain = await writesOf(() => sql.unsafe(KINDS, VALUES as never[]));
      const oneTrip = await writesOf(() => inOneRoundTrip(sql.unsafe(KINDS, VALUES as never[])));
      expect([plain.writes, oneTrip.writes]).toEqual([2, 1]);
      expect([...oneTrip.result]).toEqual([...plain.result]);
      const [row] = oneTrip.result;
      expect(row).toMatchObject({
        text: 'plain',
        int: 42,
        numeric: '12.50',
        boolean: true,
        bytes: VALUES[5],
        big: '9007199254740993',
        json: { a: [1, null, 'x'] },
        list: ['a b', 'c,d'],
        missing: null,
        quoted: VALUES[12],
      });
      // Drizzle reads timestamps as the server's text.
      expect(new Date(row!.at as string)).toEqual(new Date(VALUES[4] as string));
    });

    it('reports a failed statement and leaves the connection usable', async () => {
      const { sql, writesOf } = await counted();
      await expect(inOneRoundTrip(sql.unsafe('select $1::int as n', ['nope']))).rejects.toMatchObject({
        code: '22P02',
      });
      const next = await writesOf(() => inOneRoundTrip(sql.unsafe('select $1::int as n', [7])));
      expect([...next.result]).toEqual([{ n: 7 }]);
      expect(next.writes).toBe(1);
    });

    it("sends a transaction's statements, and a savepoint's, in one write each", async () => {
      const { sql, writesOf } = await counted();
      const transaction = (scope: (tx: postgres.TransactionSql) => postgres.TransactionSql) =>
        writesOf(() =>
          sql.begin(async (tx) => {
            const scoped = scope(tx);
            const [outer] = await scoped.unsafe('select $1::int as n', [1]);
            const inner = await scoped.savepoint((sp) => sp.unsafe('select $1::int as n', [2]));
            return [outer, ...inner];
          }),
        );
      const plain = await transaction((tx) => tx);
      const oneTrip = await transaction(oneRoundTripScope);
      expect(oneTrip.result).toEqual([{ n: 1 }, { n: 2 }]);
      expect(plain.result).toEqual(oneTrip.result);
      expect(plain.writes - oneTrip.writes, 'one write fewer for each of the two selects').toBe(2);
    });
  });
});
