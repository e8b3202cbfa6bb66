import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseErrorOf } from '../src/database/connection-errors.ts';
import { openDatabase } from '../src/database/open.ts';
import { terminateConnections, testBackend, testSettings } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';
import { type Served, serveOnTestDatabase, serveOnUrl } from './support/serve.ts';

const serverUrl = process.env.TEST_DATABASE_URL;
let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

describe('database handle (both backends)', () => {
  it('pings, reports its engine and pool stats, and runs queries through Drizzle', async () => {
    served = await serveOnTestDatabase(notes, { env: { DB_POOL_MAX: '3' } });
    const handle = served.database!.handle;
    expect(handle.engine).toBe(testBackend);
    expect(await handle.ping(1000)).toBeGreaterThanOrEqual(0);
    expect(handle.stats()).toMatchObject({
      engine: testBackend,
      max: testBackend === 'postgres' ? 3 : 1,
      active: 0,
    });
    const created = await served.server.inject({
      method: 'POST',
      url: '/authors',
      payload: { email: 'a@x.io' },
    });
    expect(created.statusCode).toBe(201);
    const count = await served.server.inject({ url: '/count' });
    expect(count.json()).toEqual({ authors: 1 });
  });
});

describe.skipIf(testBackend !== 'postgres')(
  'pool behaviour on the real server (skipped on PGlite: no server, no pool)',
  () => {
    const admin = () => postgres(serverUrl!, { max: 1, onnotice: () => {} });

    it('serves the next request after the server terminated every connection of the app', async () => {
      served = await serveOnTestDatabase(notes, { env: { DB_POOL_MAX: '4' } });
      // Fill the pool so every connection is one the server will kill.
      await Promise.all(
        Array.from({ length: 4 }, () => served!.server.inject({ url: '/slow?seconds=0.05' })),
      );
      const killed = await terminateConnections(served.database!.settings.databaseUrl!);
      expect(killed.length).toBeGreaterThanOrEqual(1);
      // A statement written before its socket heard of the close did reach a socket, so it is not run again (it
      // may have run), and that request alone answers 503: the next one is served.
      const next = await served.server.inject({ url: '/count' });
      expect(next.statusCode, next.body).toBe(200);
      const ready = await served.server.inject({ url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
    });

    it('fails fast with 503 when the pool is exhausted, then stays healthy', async () => {
      served = await serveOnTestDatabase(notes, {
        env: { DB_POOL_MAX: '2', DB_POOL_WAIT_TIMEOUT_MS: '300' },
      });
      const started = performance.now();
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => served!.server.inject({ url: '/slow?seconds=1' })),
      );
      const elapsed = performance.now() - started;
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      const rejected = responses.filter((r) => r.statusCode === 503);
      expect(rejected.length).toBeGreaterThan(40);
      expect(rejected[0]!.headers['retry-after']).toBe('1');
      expect(rejected[0]!.json().error.code).toBe('database_unavailable');
      // Only the requests holding connections wait for their sleeps; nothing queues behind them for long.
      expect(elapsed).toBeLessThan(4000);
      const after = await served.server.inject({ url: '/count' });
      expect(after.statusCode).toBe(200);
      expect(served.database!.handle.stats()).toMatchObject({ active: 0, waiting: 0 });
    });

    it('runs a statement again after a lost connection only when it never reached the server (nextval)', async () => {
      const sequence = `gwt_retry_${process.pid}`;
      const settings = testSettings(notes, { DB_POOL_MAX: '1' }, serverUrl!);
      const handle = await openDatabase(settings, { schema: notes.schema });
      const server = admin();
      const nextval = async () => {
        const rows = (await handle.db.execute(
          sql`select nextval(${sequence}::regclass)::text as value`,
        )) as unknown as { value: string }[];
        return rows[0]?.value;
      };
      const backendOfApp = async () => {
        const [row] = (await handle.db.execute(sql`select pg_backend_pid() as pid`)) as unknown as [
          { pid: number },
        ];
        return row.pid;
      };
      try {
        await handle.db.execute(sql.raw(`create sequence ${sequence}`));
        expect(await nextval()).toBe('1');

        // Sent, and the socket closed under it while it runs: it may have run (here it did), so it is not
        // run again and the caller hears of the failure.
        const pid = await backendOfApp();
        const cut = handle.db
          .execute(
            sql`select value, pg_sleep(2) from (select nextval(${sequence}::regclass) as value offset 0) drawn`,
          )
          .then(() => 'answered');
        // Its failure is awaited from before the cut: it can arrive before the terminate's own answer.
        const refused = expect(cut).rejects.toThrow();
        await new Promise((resolve) => setTimeout(resolve, 300));
        await server`select pg_terminate_backend(${pid})`;
        await refused;
        expect(await nextval()).toBe('3');

        // The server ends the idle connection; the next nextval meets the dead socket before any byte leaves,
        // so it is run again on a fresh connection, once.
        const idle = await backendOfApp();
        await server`select pg_terminate_backend(${idle})`;
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(await nextval()).toBe('4');
        expect(await nextval()).toBe('5');
      } finally {
        await handle.db.execute(sql.raw(`drop sequence if exists ${sequence}`)).catch(() => {});
        await handle.close();
        await server.end();
      }
    });

    it('applies statement_timeout and answers 503 when a query runs past it', async () => {
      served = await serveOnTestDatabase(notes, { env: { DB_STATEMENT_TIMEOUT_MS: '200' } });
      const slow = await served.server.inject({ url: '/slow?seconds=2' });
      expect(slow.statusCode).toBe(503);
      expect(slow.json().error.message).toBe('the database took too long to answer');
    });
  },
);

describe.skipIf(testBackend !== 'postgres')(
  'unreachable server (skipped on PGlite: it has no network)',
  () => {
    it('fails a request with 503 within the connect timeout and readiness says unreachable', async () => {
      served = await serveOnUrl(notes, 'postgres://postgres:hunter2@127.0.0.1:1/nowhere', {
        DB_CONNECT_TIMEOUT_MS: '1000',
      });
      const started = performance.now();
      const response = await served.server.inject({ url: '/count' });
      expect(performance.now() - started).toBeLessThan(1500);
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.body).not.toContain('hunter2');
      const ready = await served.server.inject({ url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({
        status: 'unavailable',
        database: 'disconnected',
        reason: 'unreachable',
      });
      expect(ready.body).not.toContain('hunter2');
    });

    it('closes at once when nothing listens, though a statement still waits for postgres.js to retry', async () => {
      // One connection, so every try is a reconnect of it.
      const settings = testSettings(notes, { DB_POOL_MAX: '1' }, 'postgres://postgres@127.0.0.1:1/nowhere');
      const handle = await openDatabase(settings, { schema: notes.schema });
      let closeMs: number;
      try {
        // Each refused reconnect lengthens postgres.js's wait before the next (x3 each time, up to 1 s): after
        // six, the next try is 0.5-1 s away.
        for (let i = 0; i < 6; i++) await expect(handle.db.execute(sql`select 1`)).rejects.toThrow();
        // A ping that gives up after 100 ms leaves its statement queued for that try, holding a pool place.
        await expect(handle.ping(100)).rejects.toThrow();
        expect(handle.stats().active).toBe(1);
      } finally {
        const started = performance.now();
        await handle.close();
        closeMs = performance.now() - started;
      }
      // Not the 5 s an in-flight statement on a live connection is given.
      expect(closeMs).toBeLessThan(1000);
    });

    it('fails statements within the wait bound while the server refuses connections, and serves at once when it has room', async () => {
      // A server at max_connections answers each new connection "too many clients" (53300). A role with a
      // connection limit of 0 is refused the same way, without filling the shared server.
      const role = `gwt_refused_${process.pid}`;
      const server = postgres(serverUrl!, { max: 1, onnotice: () => {} });
      await server`create role ${server(role)} login connection limit 0`;
      const url = Object.assign(new URL(serverUrl!), { username: role, password: '' }).href;
      const settings = testSettings(notes, { DB_POOL_MAX: '10', DB_POOL_WAIT_TIMEOUT_MS: '5000' }, url);
      const handle = await openDatabase(settings, { schema: notes.schema });
      try {
        // A burst as a load balancer sends it: more statements than the gate admits.
        const started = performance.now();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 30 }, () => handle.db.execute(sql`select 1`)),
        );
        const refusedMs = performance.now() - started;
        const codes = outcomes.map((outcome) =>
          outcome.status === 'rejected' ? databaseErrorOf(outcome.reason)?.code : 'served',
        );
        expect(new Set(codes)).toEqual(new Set(['53300']));
        // Each refusal grows postgres.js's wait before the next connection try, counted for the whole pool:
        // left at its default (up to 20 s) the later statements waited past the wait bound, holding the gate.
        expect(refusedMs).toBeLessThan(settings.pool.waitTimeoutMs);

        await server`alter role ${server(role)} connection limit -1`;
        const back = performance.now();
        await handle.db.execute(sql`select 1`);
        // The pool's next try is at most a second away, not the 10-20 s that burst had built up.
        expect(performance.now() - back).toBeLessThan(2000);
      } finally {
        await handle.close();
        await server`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${role}`;
        await server`drop role if exists ${server(role)}`;
        await server.end();
      }
    }, 60_000);

    it('answers 503, not 500, when the server refuses the app (missing database)', async () => {
      const url = new URL(serverUrl!);
      url.pathname = '/gwt_database_that_does_not_exist';
      served = await serveOnUrl(notes, url.toString());
      const response = await served.server.inject({ url: '/count' });
      expect(response.statusCode).toBe(503);
      expect(response.json().error.code).toBe('database_unavailable');
    });
  },
);
