/**
 * How reads behave around a real standby (scripts/replica/start.sh, one standby, default
 * DB_REPLICA_MAX_LAG_MS = 1000): the lag the monitor reports under a steady stream of inserts, then, under read
 * load, how long a stopped standby takes to be skipped and a restarted one to serve again, with the reads that
 * failed, and how long a paused replay takes to be skipped. Figures for docs/scaling.md.
 *
 *   node scripts/replica/measure.ts
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { pgTable, serial, text } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { loadSettings } from '../../packages/groundwork/src/config.ts';
import { openDatabase } from '../../packages/groundwork/src/database/open.ts';

const probe = pgTable('probe', { id: serial('id').primaryKey(), note: text('note').notNull() });
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
const [primaryPort, standbyPort] = [await freePort(), await freePort()];
const script = (name: string, ...args: string[]) =>
  execFileSync(join(import.meta.dirname, name), args, { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1)!;
const dir = script('start.sh', String(primaryPort), String(standbyPort));
const url = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`;
const primary = postgres(url(primaryPort), { max: 1, onnotice: () => {} });
const standby = postgres(url(standbyPort), { max: 1, onnotice: () => {} });

async function until(condition: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (!(await condition())) await delay(10);
  return Math.round(performance.now() - started);
}

try {
  await primary`create table probe (id serial primary key, note text not null)`;
  await primary`insert into probe (note) values ('first')`;
  const settings = loadSettings({
    appName: 'measure',
    readDotenv: false,
    env: { DATABASE_URL: url(primaryPort), DATABASE_REPLICA_URLS: url(standbyPort), DB_POOL_MAX: '4' },
  });
  const handle = await openDatabase(settings, { schema: { probe } });
  const state = async () => (await handle.replicas())[0]!;
  await until(async () => (await state()).state === 'ok');

  // Lag reported while the primary takes a steady stream of inserts.
  const lags: number[] = [];
  const writeUntil = performance.now() + 5000;
  while (performance.now() < writeUntil) {
    await primary`insert into probe (note) values ('steady')`;
    await delay(5);
    lags.push((await state()).lagMs ?? Number.NaN);
  }
  lags.sort((a, b) => a - b);

  let running = true;
  const served: { at: number; port: number }[] = [];
  let failed = 0;
  const readers = Array.from({ length: 6 }, async () => {
    while (running) {
      try {
        const [row] = await handle.db.select({ port: sql<number>`inet_server_port()` }).from(probe).limit(1);
        served.push({ at: performance.now(), port: Number(row!.port) });
      } catch {
        failed++;
      }
    }
  });
  await delay(500);
  script('standby.sh', dir, 'stop', '1');
  const stoppedAt = performance.now();
  const skippedAfter = await until(async () => (await state()).state === 'down');
  await delay(500);
  script('standby.sh', dir, 'start', '1');
  const startedAt = performance.now();
  await until(async () => served.some((read) => read.at > startedAt && read.port === standbyPort));
  const servingAfter = Math.round(
    served.find((r) => r.at > startedAt && r.port === standbyPort)!.at - startedAt,
  );
  const outage = served.filter((read) => read.at > stoppedAt && read.at < startedAt);

  await standby`select pg_wal_replay_pause()`;
  await primary`insert into probe (note) values ('while paused')`;
  const laggingAfter = await until(async () => (await state()).state === 'lagging');
  await standby`select pg_wal_replay_resume()`;
  const resumedAfter = await until(async () => (await state()).state === 'ok');
  running = false;
  await Promise.all(readers);
  await handle.close();

  console.table({
    'inserts/s on the primary meanwhile': Math.round(lags.length / 5),
    'lag reported meanwhile, median ms': lags[Math.floor(lags.length / 2)],
    'lag reported, max ms': lags.at(-1),
    'reads (6 readers, whole run)': served.length,
    'reads failed': failed,
    'reads while the standby was down, on the primary': outage.filter((r) => r.port === primaryPort).length,
    'reads while the standby was down, on the standby': outage.filter((r) => r.port === standbyPort).length,
    'standby stopped -> marked down, ms': skippedAfter,
    'standby started -> serving reads again, ms': servingAfter,
    'replay paused + 1 write -> skipped as lagging, ms': laggingAfter,
    'replay resumed -> serving again, ms': resumedAfter,
  });
} finally {
  await Promise.all([primary.end(), standby.end()]);
  script('stop.sh', dir);
}
