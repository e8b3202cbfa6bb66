/**
 * `node bench/http/aging.ts`: does a server slow down as it serves? For each kind of server, one process is
 * driven for AGE_S seconds (GET and PATCH of users, operator key), then a fresh one is started and warmed up,
 * and the two take turns on GET user for ROUNDS paired runs of DURATION seconds. Printed: each pair, then the
 * medians of the aged and the fresh process (req/s, CPU per request). The kinds: the floor
 * (bench/http/floor.ts) on postgres.js's own queue, the floor with groundwork's bounded queue
 * (adapters/postgres-queue.ts), and learnr served by the CLI. See docs/performance.md.
 *
 * Server: TEST_DATABASE_URL or the local PostgreSQL. AGE_S (default 40), ROUNDS (default 4), DURATION
 * (default 4), CONNECTIONS (default 50).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { appDatabase, seedLearnrUsers, shapes } from './learnr-data.ts';
import { type Server, startServer, stopServer } from './processes.ts';
import { median } from './report.ts';
import { type Run, runWrk, wrkScript } from './wrk.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'packages', 'groundwork', 'bin', 'groundwork.js');
const LEARNR = join(ROOT, 'apps', 'learnr');
const AGE_S = Number(process.env.AGE_S ?? 40);
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const DURATION = Number(process.env.DURATION ?? 4);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const OPERATOR_KEY = randomBytes(32).toString('base64url');
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
const scratch = mkdtempSync(join(tmpdir(), 'gw-bench-aging-'));

try {
  const url = await appDatabase(admin, serverUrl, 'gw_bench_aging', LEARNR, process.env);
  const ids = await seedLearnrUsers(url, 'not-a-hash');
  const callers = { kind: 'operator' as const, key: OPERATOR_KEY, ids };
  const script = (name: string, body: string) => {
    const file = join(scratch, `${name}.lua`);
    writeFileSync(file, body);
    return file;
  };
  const get = script('get', wrkScript(shapes['GET user'], callers));
  const patch = script('patch', wrkScript(shapes['PATCH user'], callers));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: url,
    DB_POOL_MAX: '15',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
  };
  delete env.TEST_DATABASE_URL;
  const floor = join(ROOT, 'bench', 'http', 'floor.ts');
  const kinds: { name: string; command: string[]; cwd: string; readyPath: string; env: NodeJS.ProcessEnv }[] =
    [
      {
        name: 'floor, postgres.js queue',
        command: [process.execPath, floor],
        cwd: ROOT,
        readyPath: '/api/v1/health',
        env,
      },
      {
        name: 'floor, bounded queue',
        command: [process.execPath, '--import', 'groundwork-pg/postgres-queue', floor],
        cwd: ROOT,
        readyPath: '/api/v1/health',
        env,
      },
      {
        name: 'learnr (CLI), info',
        command: [process.execPath, BIN, 'serve'],
        cwd: LEARNR,
        readyPath: '/health/ready',
        env: { ...env, ADMIN_API_KEYS: OPERATOR_KEY, LOG_LEVEL: 'info' },
      },
    ];
  console.log(
    `Node ${process.version}: each server aged ${AGE_S} s (GET and PATCH), then ${ROUNDS} paired ${DURATION} s runs of GET user against a fresh one, wrk ${CONNECTIONS} connections.\n`,
  );
  console.log(
    '| server | aged req/s | fresh req/s | aged/fresh | aged CPU per request | fresh CPU per request |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const kind of kinds) {
    const launch = { env: kind.env, cwd: kind.cwd, readyPath: kind.readyPath };
    const aged = await startServer('aged', kind.command, launch);
    for (let at = 0; at < AGE_S; at += 10) {
      await runWrk(aged, get, 5, CONNECTIONS);
      await runWrk(aged, patch, 5, CONNECTIONS);
    }
    const fresh = await startServer('fresh', kind.command, launch);
    await runWrk(fresh, get, 2, CONNECTIONS);
    const runs = new Map<Server, Run[]>([
      [aged, []],
      [fresh, []],
    ]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const server of round % 2 === 0 ? [aged, fresh] : [fresh, aged]) {
        runs.get(server)!.push(await runWrk(server, get, DURATION, CONNECTIONS));
      }
    }
    await stopServer(aged);
    await stopServer(fresh);
    const [agedRps, freshRps] = [aged, fresh].map((s) => median(runs.get(s)!.map((r) => r.rps)));
    const [agedCpu, freshCpu] = [aged, fresh].map((s) => median(runs.get(s)!.map((r) => r.cpuUs)));
    console.log(
      `| ${kind.name} | ${Math.round(agedRps!)} | ${Math.round(freshRps!)} | ${(agedRps! / freshRps!).toFixed(2)} | ${Math.round(agedCpu!)} µs | ${Math.round(freshCpu!)} µs |`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
  await admin.unsafe('drop database if exists gw_bench_aging with (force)');
  await admin.end();
}
