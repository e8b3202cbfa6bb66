/**
 * CLI start-up, as a user pays it: the built bin (dist/) under plain Node, medians of 5 runs.
 *
 *   npm run build && node packages/groundwork/bench/cli.ts
 *
 * `db current` and `serve` run against a server (TEST_DATABASE_URL, default the local PostgreSQL), in a
 * scratch database migrated once. Targets (issue "An installable foundation"): --help <= 0.3 s,
 * db current <= 0.6 s, serve's first answered request <= 1 s.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import postgres from 'postgres';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'packages', 'groundwork', 'bin', 'groundwork.js');
const APP_DIR = join(ROOT, 'apps', 'learnr');
const RUNS = 5;
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = 'gw_bench_cli';
const url = new URL(serverUrl);
url.pathname = `/${database}`;
// Production refuses to start without credentials: an operator key the bench never sends (health is public).
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_ENV: 'production',
  LOG_LEVEL: 'info',
  DATABASE_URL: url.href,
  PORT: '0',
  ADMIN_API_KEYS: randomBytes(32).toString('base64url'),
};
delete env.TEST_DATABASE_URL;

function cli(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: APP_DIR, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`groundwork ${args.join(' ')} failed:\n${result.stderr}`);
  return performance.now() - started;
}

/** From spawn to the first answered request (GET /health/live), then SIGTERM. */
function firstRequest(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'serve'], {
    cwd: APP_DIR,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = async (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening at (http:\/\/[\d.]+:\d+)/.exec(output);
      if (!match) return;
      child.stdout.off('data', onData);
      const response = await fetch(`${match[1]}/health/live`);
      const elapsed = performance.now() - started;
      child.kill('SIGTERM');
      if (response.status === 200) resolve(elapsed);
      else reject(new Error(`/health/live answered ${response.status}`));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on(
      'exit',
      (code) => code !== 0 && code !== null && reject(new Error(`serve exited ${code}:\n${output}`)),
    );
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const seconds = (ms: number) => (ms / 1000).toFixed(2);

async function measure(name: string, target: number, once: () => number | Promise<number>) {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once());
  const value = median(samples);
  const verdict = value <= target * 1000 ? 'met' : 'NOT met';
  console.log(
    `${name.padEnd(28)} median ${seconds(value)} s  (target <= ${target} s: ${verdict})  runs: ${samples.map(seconds).join(' ')}`,
  );
}

const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`drop database if exists "${database}" with (force)`);
await admin.unsafe(`create database "${database}"`);
try {
  cli(['db', 'upgrade']);
  console.log(`Node ${process.version}, learnr against ${serverUrl.replace(/\/\/[^@]*@/, '//')}`);
  await measure('groundwork --help', 0.3, () => cli(['--help']));
  await measure('groundwork db current', 0.6, () => cli(['db', 'current']));
  await measure('serve: first request', 1, firstRequest);
} finally {
  await admin.unsafe(`drop database if exists "${database}" with (force)`);
  await admin.end();
}
