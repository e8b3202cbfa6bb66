import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createServerTestDatabase, type TestDatabase, testBackend } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';
import { type ServerProcess, startServer } from './support/subprocess.ts';

interface Answer {
  status: number;
  connection: string | undefined;
  at: number;
}

function get(agent: Agent, url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (response) => {
      response.resume();
      response.on('end', () =>
        resolve({
          status: response.statusCode!,
          connection: response.headers.connection,
          at: performance.now(),
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The notes app on this run's backend: a fresh server database, or a fresh embedded data directory. */
async function serveNotes(
  env: Record<string, string> = {},
): Promise<{ server: ServerProcess; database?: TestDatabase<any> }> {
  let database: TestDatabase<any> | undefined;
  const backendEnv: Record<string, string> = {};
  if (testBackend === 'postgres') {
    database = await createServerTestDatabase(notes);
    cleanups.push(() => database!.dispose());
    backendEnv.DATABASE_URL = database.settings.databaseUrl!;
  } else {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-shutdown-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    backendEnv.DATA_DIR = dataDir;
  }
  // debug: the server logs each request as it arrives, which the tests below wait for.
  const server = await startServer({ env: { ...backendEnv, LOG_LEVEL: 'debug', ...env } });
  cleanups.push(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });
  return { server, database };
}

/** Resolves with the exit, or with null when the process is still running after `ms`. */
const exitWithin = (server: ServerProcess, ms: number) =>
  Promise.race([server.exited, delay(ms).then(() => null)]);

const incomingRequests = (server: ServerProcess) => server.output().match(/"request received"/g)?.length ?? 0;

async function untilIncoming(server: ServerProcess, count: number): Promise<void> {
  while (incomingRequests(server) < count) await delay(10);
}

describe('graceful shutdown', { timeout: 90_000 }, () => {
  it('answers a keep-alive request in flight at SIGTERM with Connection: close and exits 0 within 1 s of it', async () => {
    const { server, database } = await serveNotes();
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    expect((await get(agent, `${server.url}/health/live`)).status).toBe(200);

    let inFlight: Promise<Answer>;
    if (database) {
      // A table lock held by another session keeps the request waiting inside the database for 3 s.
      const session = await database.handle.session();
      await session.query('begin');
      await session.query('lock table authors in access exclusive mode');
      inFlight = get(agent, `${server.url}/count`);
      setTimeout(() => void session.query('rollback').then(() => session.release()), 3000);
    } else {
      // PGlite runs one process; nothing else can hold a lock, so the route waits 3 s then queries.
      inFlight = get(agent, `${server.url}/pause?seconds=3`);
    }
    await untilIncoming(server, 2);
    server.child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.connection).toBe('close');
    const exit = await exitWithin(server, 5000);
    expect(exit, 'still running 5 s after the response').not.toBeNull();
    expect(exit!.code).toBe(0);
    expect(exit!.at - answer.at).toBeLessThan(1000);
    // stdout is buffered: the lines written just before the exit were flushed, not lost.
    const inFlightRoute = database ? '/count' : '/pause';
    expect(server.output()).toContain(`"route":"${inFlightRoute}","status":200`);
  });

  it('under 50 keep-alive connections, answers every request accepted before SIGTERM and exits 0', async () => {
    const { server } = await serveNotes();
    const agent = new Agent({ keepAlive: true, maxSockets: 50 });
    cleanups.push(() => agent.destroy());
    const warm = await Promise.all(Array.from({ length: 50 }, () => get(agent, `${server.url}/health/live`)));
    expect(warm.every((answer) => answer.status === 200)).toBe(true);

    const load = Array.from({ length: 50 }, () => get(agent, `${server.url}/pause?seconds=0.5`));
    await untilIncoming(server, 100);
    server.child.kill('SIGTERM');
    const answers = await Promise.allSettled(load);
    const failed = answers.filter((a) => a.status === 'rejected' || a.value.status !== 200);
    expect(failed).toEqual([]);
    const exit = await exitWithin(server, 5000);
    expect(exit, 'still running 5 s after the last response').not.toBeNull();
    expect(exit!.code).toBe(0);
  });

  it('destroys what is left at SHUTDOWN_TIMEOUT_MS and exits 1', async () => {
    const { server } = await serveNotes({ SHUTDOWN_TIMEOUT_MS: '500' });
    // A request whose headers never finish keeps its connection busy (Node would wait 60 s for them).
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('GET /health/live HTTP/1.1\r\nHost: localhost\r\n');
    await delay(200);
    const signalled = performance.now();
    server.child.kill('SIGTERM');
    const exit = await exitWithin(server, 5000);
    expect(exit, 'still running 5 s after SIGTERM').not.toBeNull();
    expect(exit!.code).toBe(1);
    expect(exit!.at - signalled).toBeGreaterThanOrEqual(450);
    expect(exit!.at - signalled).toBeLessThan(2500);
    await closed;
  });
});
