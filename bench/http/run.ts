/**
 * `npm run bench:http`: learnr against the floor (bench/http/floor.ts) on one PostgreSQL database, driven by
 * wrk (Debian's package: it uses far less CPU than a Node load generator on 2 cores).
 *
 * Seeds 10,000 users, then for each scenario (GET user, PATCH user, list, health) runs the floor, learnr at
 * LOG_LEVEL=info and learnr at LOG_LEVEL=warn in turn, ROUNDS times (default 3), and prints medians, ratios
 * to the floor and p99 latencies. Server: TEST_DATABASE_URL or the local PostgreSQL; DURATION seconds per
 * run (default 5); CONNECTIONS (default 50).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort } from '../free-port.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'packages', 'groundwork', 'bin', 'groundwork.js');
const LEARNR = join(ROOT, 'apps', 'learnr');
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = Number(process.env.DURATION ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const USERS = 10_000;
const OPERATOR_KEY = randomBytes(32).toString('base64url');
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = 'gw_bench_http';
const databaseUrl = Object.assign(new URL(serverUrl), { pathname: `/${database}` }).href;

type Target = Awaited<ReturnType<typeof start>>;
interface Result {
  rps: number;
  p99Ms: number;
  /** The server process's CPU time per request (user + system). */
  cpuUs: number;
  /** Answers that were not 2xx (wrk does not say which status). */
  errors: number;
}

/** CPU time (ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number | undefined): number {
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 per second).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

const scenarios: Record<string, string> = {
  'GET user': `request = function()
  return wrk.format('GET', '/api/v1/users/' .. ids[math.random(#ids)])
end`,
  'PATCH user': `request = function()
  local body = '{"target_score":' .. math.random(0, 100) .. '}'
  return wrk.format('PATCH', '/api/v1/users/' .. ids[math.random(#ids)], { ['content-type'] = 'application/json', ['authorization'] = wrk.headers['authorization'] }, body)
end`,
  list: `request = function()
  return wrk.format('GET', '/api/v1/users?limit=20&offset=' .. math.random(0, ${USERS - 20}))
end`,
  health: `request = function()
  return wrk.format('GET', '/api/v1/health')
end`,
};

/** Starts a server on a free port and resolves once `readyPath` answers 200. */
async function start(
  name: string,
  command: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  readyPath: string,
) {
  const port = await freePort();
  // Log lines go to a pipe that is drained, as a log collector would: their cost is part of the figure.
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stdout!.resume();
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) break;
    const response = await fetch(`${url}${readyPath}`).catch(() => undefined);
    if (response?.status === 200) return { name, url, child };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGTERM');
  throw new Error(`${name} did not become ready:\n${errors}`);
}

async function wrk(target: Target, script: string, seconds: number): Promise<Result> {
  const cpuBefore = cpuMs(target.child.pid);
  const { stdout } = await run('wrk', [
    '-t2',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--latency',
    '-s',
    script,
    target.url,
  ]);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  if (errors) process.stderr.write(`${target.name}: ${errors} non-2xx answers\n`);
  const cpu = cpuMs(target.child.pid) - cpuBefore;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const unit = { us: 0.001, ms: 1, s: 1000 }[p99?.[2] as 'us' | 'ms' | 's'];
  return { rps, p99Ms: Number(p99?.[1]) * unit, cpuUs: (cpu * 1000) / requests, errors };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`drop database if exists "${database}" with (force)`);
await admin.unsafe(`create database "${database}"`);
const scratch = mkdtempSync(join(tmpdir(), 'gw-bench-http-'));
const targets: Target[] = [];
try {
  // learnr in production needs a credential: an operator key, which wrk sends on every request (the floor
  // ignores it), so the app's authentication is part of the cost measured.
  const appEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    ADMIN_API_KEYS: OPERATOR_KEY,
  };
  delete appEnv.TEST_DATABASE_URL;
  await run(process.execPath, [BIN, 'db', 'upgrade'], { cwd: LEARNR, env: appEnv });

  const db = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  // One real argon2id hash for every row: the bench never logs in, and hashing 10,000 would take minutes.
  const { hashPassword } = await import('groundwork-pg');
  const hash = await hashPassword('bench-password-1');
  await db`insert into users (email, hashed_password, target_score, created_at)
           select 'user' || g || '@bench.test', ${hash}, g % 101, now() - g * interval '1 second'
             from generate_series(1, ${USERS}) g`;
  const ids = (await db<{ id: string }[]>`select id from users`).map((r) => r.id);
  await db.end();

  const scripts: Record<string, string> = {};
  for (const [name, body] of Object.entries(scenarios)) {
    const file = join(scratch, `${name.replace(/\W+/g, '_')}.lua`);
    const header = `wrk.headers['authorization'] = 'Bearer ${OPERATOR_KEY}'`;
    writeFileSync(file, `${header}\nids = { ${ids.map((id) => `'${id}'`).join(', ')} }\n${body}\n`);
    scripts[name] = file;
  }

  targets.push(
    await start(
      'floor',
      [process.execPath, join(ROOT, 'bench', 'http', 'floor.ts')],
      appEnv,
      ROOT,
      '/api/v1/health',
    ),
    await start(
      'learnr info',
      [process.execPath, BIN, 'serve'],
      { ...appEnv, LOG_LEVEL: 'info' },
      LEARNR,
      '/health/ready',
    ),
    await start(
      'learnr warn',
      [process.execPath, BIN, 'serve'],
      { ...appEnv, LOG_LEVEL: 'warn' },
      LEARNR,
      '/health/ready',
    ),
  );

  const results = new Map<string, Result[]>();
  for (const scenario of Object.keys(scenarios)) {
    for (const target of targets) await wrk(target, scripts[scenario]!, 2); // warm-up: JIT, pools, caches
  }
  for (let round = 1; round <= ROUNDS; round++) {
    // The order flips every round (floor, info, warn, then warn, info, floor): a machine's speed can drift
    // over a run (docs/performance.md), and a fixed order would hand the drift to whichever server always
    // runs last.
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const scenario of Object.keys(scenarios)) {
      for (const target of order) {
        const key = `${scenario}|${target.name}`;
        results.set(key, [...(results.get(key) ?? []), await wrk(target, scripts[scenario]!, DURATION)]);
      }
    }
    process.stderr.write(`round ${round}/${ROUNDS} done\n`);
  }

  const targetsFor: Record<string, { info: number; warn: number }> = {
    'GET user': { info: 0.8, warn: 0.9 },
    'PATCH user': { info: 0.8, warn: 0.8 },
    list: { info: 1.0, warn: 1.0 },
    health: { info: 0.8, warn: 0.8 },
  };
  console.log(
    `\nNode ${process.version}, ${USERS} users, wrk ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s (medians)\n`,
  );
  // Each cell: the median, then the ratio to the floor's median and, in brackets, the lowest and highest
  // ratio of one round to the floor's run in the same round (the spread a loaded machine gives).
  console.log('| scenario | floor req/s | learnr info | learnr warn | p99 floor | p99 info | p99 warn |');
  console.log('|---|---|---|---|---|---|---|');
  const cpuLines: string[] = [];
  let failures = 0;
  for (const scenario of Object.keys(scenarios)) {
    const runs = (name: string) => results.get(`${scenario}|${name}`)!;
    const stat = (name: string) => ({
      rps: median(runs(name).map((r) => r.rps)),
      p99: median(runs(name).map((r) => r.p99Ms)),
      cpuUs: median(runs(name).map((r) => r.cpuUs)),
    });
    const floor = stat('floor');
    const cells = (['info', 'warn'] as const).map((level) => {
      const s = stat(`learnr ${level}`);
      const ratio = s.rps / floor.rps;
      const perRound = runs(`learnr ${level}`).map((r, i) => r.rps / runs('floor')[i]!.rps);
      const p99Ratio = s.p99 / floor.p99;
      // A fast error is not a fast request: any non-2xx answer misses the target.
      const errors = runs(`learnr ${level}`).reduce((sum, r) => sum + r.errors, 0);
      const ok = ratio >= targetsFor[scenario]![level] && p99Ratio <= 1.5 && errors === 0;
      if (!ok) failures++;
      return {
        rps: `${Math.round(s.rps)} (${ratio.toFixed(2)} [${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)}]${errors ? `, ${errors} non-2xx` : ''}${ok ? '' : ' MISSED'})`,
        p99: `${s.p99.toFixed(1)} ms (${p99Ratio.toFixed(2)}x)`,
        cpu: `${Math.round(s.cpuUs)} µs (${(floor.cpuUs / s.cpuUs).toFixed(2)})`,
      };
    });
    console.log(
      `| ${scenario} | ${Math.round(floor.rps)} | ${cells[0]!.rps} | ${cells[1]!.rps} | ${floor.p99.toFixed(1)} ms | ${cells[0]!.p99} | ${cells[1]!.p99} |`,
    );
    cpuLines.push(`| ${scenario} | ${Math.round(floor.cpuUs)} µs | ${cells[0]!.cpu} | ${cells[1]!.cpu} |`);
  }
  console.log(
    `\nTargets: GET user >= 0.80 (info) / 0.90 (warn), PATCH >= 0.80, health >= 0.80, list >= 1.0, p99 <= 1.5x floor: ${
      failures === 0 ? 'all met' : `${failures} missed`
    }`,
  );
  // Throughput on a shared machine moves with its load; the server's own CPU per request moves far less.
  // Its ratio (floor's CPU / learnr's) is the throughput ratio to expect when the server is CPU-bound.
  console.log("\nServer process CPU per request (median; in brackets the floor's divided by learnr's):\n");
  console.log('| scenario | floor | learnr info | learnr warn |');
  console.log('|---|---|---|---|');
  for (const line of cpuLines) console.log(line);
} finally {
  for (const target of targets) target.child.kill('SIGTERM');
  rmSync(scratch, { recursive: true, force: true });
  await admin.unsafe(`drop database if exists "${database}" with (force)`);
  await admin.end();
}
