/**
 * Read replicas on a real streaming-replication cluster (scripts/replica: an initdb'd primary and two
 * `pg_basebackup -R` standbys on spare ports). Which server ran a read is its answer to inet_server_port(),
 * and each standby's pg_stat_activity shows the app's connections by application_name.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { pgTable, serial, text } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineApp } from '../src/app.ts';
import { loadSettings, type Settings } from '../src/config.ts';
import { type DatabaseHandle, openDatabase } from '../src/database/open.ts';
import { prepareQuery } from '../src/database/prepared.ts';
import { readYourWrites } from '../src/database/read-your-writes.ts';
import { startApp } from '../src/runtime.ts';
import { buildServer } from '../src/server.ts';
import { type ReplicaCluster, replicaTestsSkipped, startReplicaCluster } from './support/servers.ts';

const skipped = replicaTestsSkipped('the replica tests');

const probe = pgTable('probe', { id: serial('id').primaryKey(), note: text('note').notNull() });
const schema = { probe };
const APPLICATION = 'groundwork:replica-test';
const MAX_LAG_MS = 500;

async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await delay(50);
  }
}

describe.skipIf(skipped !== undefined)(
  `read replicas on a streaming-replication cluster${skipped ? ` (skipped: ${skipped})` : ''}`,
  () => {
    let cluster: ReplicaCluster;
    let primary: postgres.Sql;
    let handle: DatabaseHandle<typeof schema>;
    let settings: Settings;
    /** Prepared before any replica was checked, as a repository prepares its hot queries at start. */
    let preparedPort: () => Promise<number>;
    let ports: { primary: number; standbys: number[] };

    /** The port of the server that answered one Drizzle select. */
    const readPort = async () => {
      const [row] = await handle.db.select({ port: sql<number>`inet_server_port()` }).from(probe).limit(1);
      return Number(row!.port);
    };
    const states = async () => (await handle.replicas()).map((replica) => replica.state);

    beforeAll(async () => {
      cluster = await startReplicaCluster(2);
      ports = {
        primary: Number(new URL(cluster.primaryUrl).port),
        standbys: cluster.standbyUrls.map((url) => Number(new URL(url).port)),
      };
      primary = postgres(cluster.primaryUrl, { max: 1, onnotice: () => {} });
      await primary`create table probe (id serial primary key, note text not null)`;
      await primary`insert into probe (note) values ('first')`;
      for (const url of cluster.standbyUrls) {
        const standby = postgres(url, { max: 1, onnotice: () => {} });
        await waitFor(
          'the table on a standby',
          () => standby`select to_regclass('probe') is not null as here`.then(([row]) => row?.here),
          Boolean,
        );
        await standby.end();
      }
      settings = loadSettings({
        appName: 'replica-test',
        readDotenv: false,
        env: {
          DATABASE_URL: cluster.primaryUrl,
          DATABASE_REPLICA_URLS: cluster.standbyUrls.join(','),
          DB_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS),
          DB_POOL_MAX: '4',
        },
      });
      handle = await openDatabase(settings, { schema, applicationName: APPLICATION });
      const prepared = prepareQuery(
        handle.db,
        'replica_test_port',
        handle.db.select({ port: sql<number>`inet_server_port()` }).from(probe).limit(1),
      );
      preparedPort = async () => Number((await prepared.execute())[0]!.port);
      await waitFor('both replicas ok', states, (s) => s.every((state) => state === 'ok'));
    }, 120_000);
    afterAll(async () => {
      await handle?.close();
      await primary?.end();
      await cluster?.stop();
    });

    it('sends selects to the replicas in turn, and writes, raw SQL and transactions to the primary', async () => {
      const reads = [];
      for (let i = 0; i < 8; i++) reads.push(await readPort());
      expect(reads.filter((port) => port === ports.standbys[0])).toHaveLength(4);
      expect(reads.filter((port) => port === ports.standbys[1])).toHaveLength(4);
      // Array types parse on a replica too (its connections use the ones the primary's loaded).
      const [typed] = await handle.db
        .select({ port: sql<number>`inet_server_port()`, tags: sql<string[]>`array['a', 'b']::text[]` })
        .from(probe)
        .limit(1);
      expect(ports.standbys).toContain(Number(typed?.port));
      expect(typed?.tags).toEqual(['a', 'b']);
      for (const url of cluster.standbyUrls) {
        const standby = postgres(url, { max: 1, onnotice: () => {} });
        const [row] = await standby<{ count: number }[]>`
          select count(*)::int as count from pg_stat_activity where application_name = ${APPLICATION}`;
        await standby.end();
        expect(row?.count).toBeGreaterThan(0);
      }

      const [written] = await handle.db.insert(probe).values({ note: 'a write' }).returning({ id: probe.id });
      expect(written?.id).toBeGreaterThan(0);
      const [raw] = (await handle.db.execute(sql`select inet_server_port() as port`)) as unknown as {
        port: number;
      }[];
      expect(Number(raw?.port)).toBe(ports.primary);
      const inTransaction = await handle.db.transaction(async (tx) => {
        const [row] = await tx.select({ port: sql<number>`inet_server_port()` }).from(probe).limit(1);
        return Number(row!.port);
      });
      expect(inTransaction).toBe(ports.primary);
    });

    it('reads the primary after a write in the same request, and in any request that changes things', async () => {
      const { before, after, preparedAfter } = await readYourWrites(async () => {
        const first = await readPort();
        await handle.db.insert(probe).values({ note: 'mine' });
        return { before: first, after: await readPort(), preparedAfter: await preparedPort() };
      });
      expect(ports.standbys).toContain(before);
      expect(after).toBe(ports.primary);
      // A prepared query is routed at each call, not where it was built.
      expect(preparedAfter).toBe(ports.primary);
      expect(ports.standbys).toContain(await preparedPort());

      const dir = mkdtempSync(join(tmpdir(), 'gw-replica-app-'));
      mkdirSync(join(dir, 'migrations'));
      try {
        const app = defineApp({
          name: 'replica-app',
          title: 'replica routing',
          dir,
          schema,
          routes: (server, { db }) => {
            const port = async () => {
              const [row] = await db.select({ port: sql<number>`inet_server_port()` }).from(probe).limit(1);
              return Number(row!.port);
            };
            server.get('/port', async () => ({ read: await port() }));
            server.post('/notes', async () => {
              const before = await port();
              await db.insert(probe).values({ note: 'posted' });
              return { before, after: await port() };
            });
            server.put('/check', async () => ({ read: await port() }));
          },
        });
        // A handle of its own: the server closes it.
        const running = await startApp(app, { settings, migrate: false });
        // Replicas serve once a first check has found them in step; until then reads go to the primary.
        await waitFor(
          'its replicas ok',
          () => running.handle.replicas(),
          (r) => r.every((x) => x.state === 'ok'),
        );
        const server = await buildServer([running], { logLevel: 'silent', mount: 'root' });
        try {
          const get = await server.inject({ method: 'GET', url: '/port' });
          expect(ports.standbys).toContain(get.json().read);
          expect((await server.inject({ method: 'POST', url: '/notes' })).json()).toEqual({
            before: ports.primary,
            after: ports.primary,
          });
          expect((await server.inject({ method: 'PUT', url: '/check' })).json().read).toBe(ports.primary);
          // The next GET is a request of its own.
          expect(ports.standbys).toContain(
            (await server.inject({ method: 'GET', url: '/port' })).json().read,
          );
        } finally {
          await server.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    /** Readers in a loop until `stop()`: every read's server, and every error. */
    function readLoad(readers: number) {
      const served: number[] = [];
      const errors: unknown[] = [];
      let running = true;
      const loops = Array.from({ length: readers }, async () => {
        while (running) {
          await readPort().then(
            (port) => served.push(port),
            (error: unknown) => errors.push(error),
          );
        }
      });
      return {
        served,
        errors,
        /** How many reads went to `port` from now on. */
        since: () => {
          const start = served.length;
          return (port: number) => served.slice(start).filter((p) => p === port).length;
        },
        stop: async () => {
          running = false;
          await Promise.all(loops);
        },
      };
    }

    it('falls back when a replica stops, with no failed read, and uses it again when it is back', async () => {
      const load = readLoad(6);
      try {
        await cluster.standby('stop', 1);
        await waitFor('replica1 down', states, (s) => s[0] === 'down' && s[1] === 'ok');
        let count = load.since();
        await delay(300);
        expect(count(ports.standbys[0]!)).toBe(0);
        expect(count(ports.standbys[1]!)).toBeGreaterThan(0);

        await cluster.standby('stop', 2);
        await waitFor('both down', states, (s) => s.every((state) => state === 'down'));
        count = load.since();
        await delay(300);
        expect(count(ports.primary)).toBeGreaterThan(0);
        expect(count(ports.standbys[1]!)).toBe(0);
        // The primary alone serves: ready, each replica reported with why it is out.
        const report = await handle.replicas();
        expect(report).toEqual([
          expect.objectContaining({
            name: 'replica1',
            state: 'down',
            lagMs: null,
            error: expect.any(String),
          }),
          expect.objectContaining({ name: 'replica2', state: 'down' }),
        ]);

        await Promise.all([cluster.standby('start', 1), cluster.standby('start', 2)]);
        count = load.since();
        await waitFor(
          'reads on both standbys again',
          async () => ports.standbys.map(count),
          (n) => n.every((reads) => reads > 0),
        );
        expect(await states()).toEqual(['ok', 'ok']);
      } finally {
        await load.stop();
      }
      expect(load.errors).toEqual([]);
      expect(load.served.length).toBeGreaterThan(100);
    }, 60_000);

    it('skips a replica whose replay is paused once it lags more than DB_REPLICA_MAX_LAG_MS, until it catches up', async () => {
      const standby = postgres(cluster.standbyUrls[0]!, { max: 1, onnotice: () => {} });
      try {
        await standby`select pg_wal_replay_pause()`;
        await primary`insert into probe (note) values ('while paused')`;
        const [lagging] = await waitFor(
          'replica1 lagging',
          () => handle.replicas(),
          (r) => r[0]?.state === 'lagging',
        );
        expect(lagging?.lagMs).toBeGreaterThan(MAX_LAG_MS);
        const reads = [];
        for (let i = 0; i < 6; i++) reads.push(await readPort());
        expect(reads).toEqual(Array(6).fill(ports.standbys[1]));

        await standby`select pg_wal_replay_resume()`;
        await waitFor('replica1 caught up', states, (s) => s[0] === 'ok');
        const after = [];
        for (let i = 0; i < 6; i++) after.push(await readPort());
        expect(after).toContain(ports.standbys[0]);
      } finally {
        await standby`select pg_wal_replay_resume()`.catch(() => {});
        await standby.end();
      }
    });
  },
);
