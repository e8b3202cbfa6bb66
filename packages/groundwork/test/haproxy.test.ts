import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createServerTestDatabase, testBackend } from '../src/testing/index.ts';
import { keepRequesting, until } from './support/load.ts';
import notes from './support/notes/src/app.ts';
import { freePort } from './support/servers.ts';
import { bin, notesDir, type ServerProcess, startServer } from './support/subprocess.ts';

const scripts = join(import.meta.dirname, '..', '..', '..', 'scripts', 'haproxy');
const haproxyInstalled = spawnSync('haproxy', ['-v']).status === 0;
const skipReason =
  testBackend !== 'postgres'
    ? 'skipped: TEST_DATABASE_URL is unset (PGlite is single-process, one instance only)'
    : !haproxyInstalled
      ? 'skipped: haproxy is not installed (apt-get install -y haproxy)'
      : 'on the server database';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const status = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.status,
    () => 0,
  );

describe.skipIf(skipReason.startsWith('skipped'))(`two instances behind HAProxy (${skipReason})`, () => {
  it('a release step migrates once while both run; restarting each in turn under 50 connections fails no request', {
    timeout: 180_000,
  }, async () => {
    const database = await createServerTestDatabase(notes, { migrate: false });
    cleanups.push(() => database.dispose());
    const env = { DATABASE_URL: database.settings.databaseUrl!, LOG_LEVEL: 'warn' };
    const ports = [await freePort(), await freePort()];
    const instances: ServerProcess[] = [];
    const start = async (i: number) => {
      // LOG_LEVEL=info only for the line startServer waits for; warn would hide it.
      instances[i] = await startServer({ env: { ...env, LOG_LEVEL: 'info', PORT: String(ports[i]) } });
    };
    cleanups.push(() => {
      for (const instance of instances) if (instance.child.exitCode === null) instance.child.kill('SIGKILL');
    });
    await Promise.all([start(0), start(1)]);

    const proxyPort = await freePort();
    const dir = execFileSync(join(scripts, 'start.sh'), [
      String(proxyPort),
      ...ports.map((p) => `127.0.0.1:${p}`),
    ])
      .toString()
      .trim();
    cleanups.push(() => void execFileSync(join(scripts, 'stop.sh'), [dir]));
    const proxy = `http://127.0.0.1:${proxyPort}`;
    // Pending migrations: both instances answer readiness 503, so HAProxy has no instance to send to.
    await until(async () => (await status(`${proxy}/health/ready`)) === 503);

    // The release step, started from two deploy jobs at once: the migration lock lets one apply.
    const release = () =>
      promisify(execFile)(process.execPath, [bin, 'db', 'upgrade'], {
        cwd: notesDir,
        env: { ...process.env, ...env },
      });
    const runs = await Promise.all([release(), release()]);
    const outputs = runs.map((r) => r.stdout + r.stderr).join('\n');
    expect(outputs.match(/applied 1 migration\(s\)/g)).toHaveLength(1);
    expect(outputs.match(/Nothing to do/g)).toHaveLength(1);
    const session = await database.handle.session();
    const rows = await session.query<{ n: number }>('select count(*)::int as n from schema_migrations');
    await session.release();
    expect(rows[0]!.n).toBe(1);
    for (const instance of instances) expect(instance.output()).not.toMatch(/applying/);
    await until(async () => (await status(`${proxy}/health/ready`)) === 200);

    const load = keepRequesting(`${proxy}/count`, 50);
    await delay(1000);
    for (const i of [0, 1]) {
      instances[i]!.child.kill('SIGTERM');
      expect((await instances[i]!.exited).code).toBe(0);
      await start(i);
      await until(async () => (await status(`http://127.0.0.1:${ports[i]}/health/ready`)) === 200);
      // Let HAProxy's health check (every 500 ms, rise 1) see it up before the other one goes.
      await delay(1500);
    }
    const { served, failures } = await load.stop();
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(200);
  });
});
