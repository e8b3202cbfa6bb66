import { connect, createServer, type Server, type Socket } from 'node:net';
import { sql } from 'drizzle-orm';
import {
  type AppServer,
  buildServer,
  databaseErrorOf,
  executeRows,
  type RunningApp,
  startApp,
  upgrade,
} from 'groundwork-pg';
import {
  createTestDatabase,
  serveOnDatabase,
  setupTestApp,
  terminateConnections,
  testBackend,
  testSettings,
} from 'groundwork-pg/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import app from '../src/app.ts';
import { createUsersRepository } from '../src/users/repository.ts';

const t = setupTestApp(app);
const onServer = testBackend === 'postgres';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const APPLICATION_NAME = `groundwork:${app.name}`;
const HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1d0iSEZaQP0Fh1Dr/8jS3w+0O1ce3t7hWeDc8LqCWOM';

/** Things a test opened outside setupTestApp, closed even when the test fails. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The app wired to a database of our choosing, the way `groundwork serve counseling` runs it. */
async function serveAgainst(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<{ server: AppServer; running: RunningApp }> {
  const served = await serveOnDatabase(app, databaseUrl, env);
  cleanups.push(() => served.server.close());
  return served;
}

const get = (server: AppServer, url: string) => server.inject({ method: 'GET', url });

/** A TCP relay that can be cut and restored on the same port: stopping and restarting PostgreSQL. */
async function startRelay(target: URL) {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  let server: Server | undefined;
  let port = 0;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        track(client);
        track(upstream);
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (server?.listening) server.close(() => resolve());
      else resolve();
    });
  await start();
  cleanups.push(stop);
  return { port: () => port, start, stop };
}

/** A server that accepts connections and never answers: a hung database. */
async function startSilentServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (server.listening) server.close(() => resolve());
      else resolve();
    });
  cleanups.push(stop);
  return { port: (server.address() as { port: number }).port, stop };
}

describe('database connection', () => {
  it('answers a ping and queries through the app handle', async () => {
    expect(t.handle.engine).toBe(testBackend);
    expect(await t.handle.ping(1000)).toBeGreaterThanOrEqual(0);
    const [row] = await executeRows<{ one: number; tz: string }>(t.db, sql`select 1 as one`);
    expect(row?.one).toBe(1);
  });

  it('runs repository calls inside a transaction that rolls back as a whole', async () => {
    const users = createUsersRepository(t.db);
    const outcome = await t.db
      .transaction(async (tx) => {
        await users.create({ username: '\\campus\\first', passwordHash: HASH }, tx);
        await users.create({ username: '\\campus\\first', passwordHash: HASH }, tx);
      })
      .catch((error: unknown) => databaseErrorOf(error)?.code);
    expect(outcome).toBe('23505');
    expect((await users.list({ limit: 10, offset: 0 })).total).toBe(0);
  });
});

describe('pool configuration', () => {
  it("defaults to the story's pool (pool_size 5 + max_overflow 10 = 15) and takes overrides from the environment", () => {
    expect(testSettings(app).pool.max).toBe(15);
    const tuned = testSettings(app, {
      DB_POOL_MAX: '3',
      DB_POOL_WAIT_TIMEOUT_MS: '250',
      DB_STATEMENT_TIMEOUT_MS: '400',
      DB_IDLE_TIMEOUT_MS: '10000',
      DB_MAX_LIFETIME_S: '600',
    }).pool;
    expect(tuned).toMatchObject({
      max: 3,
      waitTimeoutMs: 250,
      statementTimeoutMs: 400,
      idleTimeoutMs: 10_000,
      maxLifetimeS: 600,
    });
    expect(() => testSettings(app, { DB_POOL_MAX: '0' })).toThrow(/DB_POOL_MAX/);
  });

  it.skipIf(!onServer)(
    'applies them on the server: connection cap, wait bound, statement timeout, application_name',
    async () => {
      const database = await createTestDatabase(app, {
        env: { DB_POOL_MAX: '3', DB_POOL_WAIT_TIMEOUT_MS: '2000', DB_STATEMENT_TIMEOUT_MS: '400' },
      });
      cleanups.push(() => database.dispose());
      const { handle } = database;
      expect(handle.stats()).toMatchObject({ engine: 'postgres', max: 3 });

      // Eight concurrent queries share at most three connections, two on each (the second pipelined behind
      // the first); the rest wait at the gate.
      const running = Array.from({ length: 8 }, () =>
        executeRows<{ pid: number }>(handle.db, sql`select pg_backend_pid() as pid, pg_sleep(0.1)`),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(handle.stats().active).toBe(6);
      expect(handle.stats().waiting).toBe(2);
      const pids = new Set((await Promise.all(running)).map(([row]) => row!.pid));
      expect(pids.size).toBeLessThanOrEqual(3);

      const [session] = await executeRows<{ timeout: string; name: string }>(
        handle.db,
        sql`select current_setting('statement_timeout') as timeout, current_setting('application_name') as name`,
      );
      expect(session).toEqual({ timeout: '400ms', name: APPLICATION_NAME });

      const slow = await executeRows(handle.db, sql`select pg_sleep(2)`).catch(
        (error: unknown) => databaseErrorOf(error)?.code,
      );
      expect(slow).toBe('57014');
    },
  );

  it.skipIf(onServer)('runs the embedded database as one in-process connection', () => {
    expect(t.handle.stats()).toEqual({ engine: 'pglite', max: 1, active: 0, waiting: 0 });
  });
});

describe('GET /health', () => {
  it('200 healthy and connected when the database answers', async () => {
    const response = await get(t.server, '/health');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      status: 'healthy',
      database: 'connected',
      latency_ms: expect.any(Number),
      timestamp: expect.stringMatching(ISO),
    });
    expect(Math.abs(Date.parse(body.timestamp) - Date.now())).toBeLessThan(60_000);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it("keeps the foundation's liveness and readiness probes", async () => {
    expect((await get(t.server, '/health/live')).json()).toEqual({ status: 'ok' });
    const ready = await get(t.server, '/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', database: 'connected', migrations: { pending: 0 } });
  });

  it('503 unhealthy and disconnected when the database is unreachable, with a sanitized error', async () => {
    const { server } = await serveAgainst('postgres://counseling:hunter2@127.0.0.1:1/counseling_platform');
    const response = await get(server, '/health');
    expect(response.statusCode).toBe(503);
    const body = response.json();
    expect(body).toEqual({
      status: 'unhealthy',
      database: 'disconnected',
      latency_ms: null,
      error: expect.stringContaining('unreachable'),
      timestamp: expect.stringMatching(ISO),
    });
    for (const secret of ['hunter2', '127.0.0.1', 'counseling_platform', 'postgres://']) {
      expect(response.body).not.toContain(secret);
    }
    expect((await get(server, '/health/ready')).statusCode).toBe(503);
    expect((await get(server, '/health/live')).statusCode).toBe(200);

    // The API says so too, with a hint to retry, instead of hanging or answering 500.
    const users = await get(server, '/api/v1/users');
    expect(users.statusCode).toBe(503);
    expect(users.headers['retry-after']).toBeDefined();
    expect(users.json().error.code).toBe('database_unavailable');
  });

  it('keeps the password hash out of the log line of an INSERT that failed during an outage', async () => {
    const lines: string[] = [];
    const running = await startApp(app, {
      settings: testSettings(app, {}, 'postgres://postgres@127.0.0.1:1/counseling'),
      migrate: false,
    });
    const server = await buildServer([running], {
      logLevel: 'info',
      mount: 'root',
      logStream: { write: (line) => lines.push(line) },
    });
    cleanups.push(() => server.close());
    const response = await server.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: '\\campus\\jdoe', password: 'correct horse battery' },
    });
    expect(response.statusCode).toBe(503);
    const log = lines.join('');
    expect(log).toContain('ECONNREFUSED');
    expect(log).not.toContain('argon2');
    expect(log).not.toContain('correct horse');
  });

  it('503 when the database accepts connections but does not answer in time', async () => {
    const silent = await startSilentServer();
    const { server, running } = await serveAgainst(
      `postgres://postgres@127.0.0.1:${silent.port}/counseling`,
      {
        DB_CONNECT_TIMEOUT_MS: '1000',
      },
    );
    const started = Date.now();
    const response = await get(server, '/health');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      status: 'unhealthy',
      database: 'disconnected',
      error: expect.stringMatching(/did not answer within \d+ ms/),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    // The stuck attempt gives its pool slot back once the connect timeout fires: nothing leaks. (Closing
    // before that would make postgres.js wait out its whole 5 s end timeout.)
    await vi.waitFor(() => expect(running.handle.stats().active).toBe(0), { timeout: 3_000, interval: 50 });
  });

  it.skipIf(!onServer)(
    'goes unhealthy when the server goes away and recovers on its own when it is back',
    async () => {
      const database = await createTestDatabase(app);
      cleanups.push(() => database.dispose());
      const target = new URL(database.settings.databaseUrl!);
      const relay = await startRelay(target);
      const viaRelay = new URL(target);
      viaRelay.hostname = '127.0.0.1';
      viaRelay.port = String(relay.port());
      const { server } = await serveAgainst(viaRelay.toString());

      expect((await get(server, '/health')).statusCode).toBe(200);
      expect((await get(server, '/api/v1/users')).statusCode).toBe(200);

      await relay.stop();
      const down = await get(server, '/health');
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ status: 'unhealthy', database: 'disconnected' });
      expect((await get(server, '/api/v1/users')).statusCode).toBe(503);

      await relay.start();
      // The first request after the database is back succeeds: no stale connection reaches it.
      expect((await get(server, '/health')).json()).toMatchObject({
        status: 'healthy',
        database: 'connected',
      });
      expect((await get(server, '/api/v1/users')).statusCode).toBe(200);
    },
  );

  it.skipIf(!onServer)(
    "recovers after pg_terminate_backend of every one of the app's connections",
    async () => {
      // Warm several pooled connections, then have the server kill them all.
      await Promise.all(Array.from({ length: 4 }, () => executeRows(t.db, sql`select pg_sleep(0.05)`)));
      const killed = await terminateConnections(t.app.settings.databaseUrl!, {
        applicationName: APPLICATION_NAME,
      });
      expect(killed.length).toBeGreaterThanOrEqual(2);

      const response = await get(t.server, '/health');
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({ status: 'healthy', database: 'connected' });
      // Writes too: the dead connections are never handed to a request.
      const created = await t.server.inject({
        method: 'POST',
        url: '/api/v1/users',
        payload: { username: '\\campus\\after', password: 'correct horse' },
      });
      expect(created.statusCode).toBe(201);
      const list = await get(t.server, '/api/v1/users');
      expect(list.json().count).toBe(1);

      const now = await executeRows<{ pid: number }>(
        t.db,
        sql`select pid from pg_stat_activity
             where datname = current_database() and application_name = ${APPLICATION_NAME}`,
      );
      const dead = new Set(killed);
      expect(now.length).toBeGreaterThan(0);
      expect(now.some((row) => dead.has(row.pid))).toBe(false);
    },
  );
});

describe('readiness before migrations', () => {
  it('is 503 "pending migrations" until the upgrade has run, then 200', async () => {
    const database = await createTestDatabase(app, { migrate: false });
    cleanups.push(() => database.dispose());
    const running = await startApp(app, {
      settings: database.settings,
      handle: database.handle,
      migrate: false,
    });
    const server = await buildServer([running], { logLevel: 'silent', mount: 'root' });
    cleanups.push(() => server.close());
    const pending = running.context.migrations.length;

    const ready = await get(server, '/health/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      status: 'unavailable',
      database: 'connected',
      reason: 'pending_migrations',
      error: `pending migrations: ${pending}`,
      migrations: { current: null, pending },
    });
    const unhealthy = await get(server, '/health');
    expect(unhealthy.statusCode).toBe(503);
    expect(unhealthy.json()).toMatchObject({
      status: 'unhealthy',
      database: 'connected',
      error: `pending migrations: ${pending}`,
    });

    await upgrade(database.handle, app.migrationsDir);
    expect((await get(server, '/health/ready')).statusCode).toBe(200);
    expect((await get(server, '/health')).json()).toMatchObject({ status: 'healthy' });
  });
});
