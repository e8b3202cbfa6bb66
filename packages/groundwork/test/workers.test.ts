import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { dropDatabase, ensureDatabase } from '../src/database/admin.ts';
import { withDatabase } from '../src/database/urls.ts';
import { createServerTestDatabase, testBackend } from '../src/testing/index.ts';
import { serverUrl } from './support/harness.ts';
import { keepRequesting, until } from './support/load.ts';
import notes from './support/notes/src/app.ts';
import { REPO } from './support/servers.ts';
import { bin, type ServerProcess, startServer } from './support/subprocess.ts';

const SERVE_TWO_WORKERS = [process.execPath, bin, 'serve', '--workers', '2'];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** `serve --workers 2` on a fresh server database; resolves once both workers listen. */
async function serveWorkers(): Promise<ServerProcess> {
  const database = await createServerTestDatabase(notes);
  cleanups.push(() => database.dispose());
  const server = await startServer({
    command: SERVE_TWO_WORKERS,
    // debug: each request is logged as it arrives, so a test can wait until requests are in flight.
    env: { DATABASE_URL: database.settings.databaseUrl!, LOG_LEVEL: 'debug' },
  });
  cleanups.push(() => {
    // The primary first (no replacements), then any worker it left.
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    for (const pid of workerPids(server)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  });
  await until(() => workerPids(server).length === 2);
  return server;
}

const workerPids = (server: ServerProcess) =>
  [...server.output().matchAll(/worker \d+ \(pid (\d+)\) listening/g)].map((m) => Number(m[1]));

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('groundwork serve --workers', { timeout: 120_000 }, () => {
  it('refuses more than one worker on the embedded PGlite database, saying why', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-workers-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const started = startServer({
      command: SERVE_TWO_WORKERS,
      env: { DATA_DIR: dataDir },
    });
    await expect(started).rejects.toThrow(/exited with 2[\s\S]*PGlite database is single-process/);
  });
});

describe.skipIf(testBackend !== 'postgres')(
  'groundwork serve --workers on a server database (skipped on PGlite runs: TEST_DATABASE_URL is unset and PGlite is single-process)',
  { timeout: 120_000 },
  () => {
    it('drains every worker on SIGTERM: in-flight requests on both answer 200, then the primary exits 0', async () => {
      const server = await serveWorkers();
      const pids = workerPids(server);
      // Separate connections: the primary hands them to the workers in turn.
      const inFlight = Array.from({ length: 4 }, () =>
        fetch(`${server.url}/pause?seconds=1`, { headers: { connection: 'close' } }),
      );
      await until(() => (server.output().match(/"request received"/g)?.length ?? 0) >= 4);
      server.child.kill('SIGTERM');
      const answers = await Promise.all(inFlight);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      expect((await server.exited).code).toBe(0);
      expect(server.output().match(/worker \d+ stopped \(code 0\)/g)).toHaveLength(2);
      expect(pids.filter(isRunning)).toEqual([]);
    });

    it('replaces a killed worker while the other keeps serving', async () => {
      const server = await serveWorkers();
      const [victim] = workerPids(server);
      process.kill(victim!, 'SIGKILL');
      // A connection the primary hands over in the instant before it sees the death is lost with the worker;
      // from then on, the survivor serves alone until the replacement listens.
      await until(() => /worker \d+ died \(signal SIGKILL\); replacing it/.test(server.output()));
      for (let i = 0; i < 20; i++) {
        expect((await fetch(`${server.url}/count`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
      }
      await until(() => workerPids(server).length === 3);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`${server.url}/count`, { signal: AbortSignal.timeout(5000) })),
      );
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(isRunning(victim!)).toBe(false);
    });

    it('restarts the workers one at a time on SIGHUP without failing a request under 20 keep-alive clients', async () => {
      const server = await serveWorkers();
      const old = workerPids(server);
      const load = keepRequesting(`${server.url}/count`, 20);
      await delay(500);
      server.child.kill('SIGHUP');
      await until(() => server.output().includes('rolling restart done'), 60_000);
      await delay(500);
      const { served, failures } = await load.stop();
      expect(failures).toEqual([]);
      expect(served).toBeGreaterThan(100);
      expect(workerPids(server)).toHaveLength(4);
      expect(old.filter(isRunning)).toEqual([]);
      expect(server.child.exitCode).toBeNull();
    });
    it('counts login attempts per address across both workers: the 21st from one address is refused, as with one process', async () => {
      const name = `gwt_workers_${randomBytes(6).toString('hex')}`;
      await ensureDatabase(serverUrl!, name);
      cleanups.push(async () => {
        await dropDatabase(serverUrl!, name);
      });
      const server = await startServer({
        command: [
          process.execPath,
          '--conditions=groundwork-source',
          bin,
          'serve',
          'learnr',
          '--migrate',
          '--workers',
          '2',
        ],
        cwd: REPO,
        env: { DATABASE_URL: withDatabase(serverUrl!, name), NODE_ENV: 'development' },
      });
      cleanups.push(() => {
        if (server.child.exitCode === null) server.child.kill('SIGKILL');
        for (const pid of workerPids(server)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {}
        }
      });
      await until(() => workerPids(server).length === 2);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 21; attempt++) {
        // A new connection each time, so the primary hands the attempts to both workers.
        const response = await fetch(`${server.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', connection: 'close' },
          body: JSON.stringify({ email: `nobody${attempt}@example.com`, password: 'wrong password 1' }),
        });
        statuses.push(response.status);
        if (response.status !== 401 && response.status !== 429) throw new Error(await response.text());
      }
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
      expect(statuses[20]).toBe(429);
      // Both workers answered some of them: each alone would have allowed 20.
      const failedOn = server
        .output()
        .split('\n')
        .filter((line) => line.includes('"auth.login_failed"'))
        .map((line) => JSON.parse(line).pid);
      expect(new Set(failedOn).size).toBe(2);
    });
  },
);
