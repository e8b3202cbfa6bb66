/**
 * `npm run bench:start`: how long `npm start` takes to serve every app on embedded PGlite, and its memory.
 *
 * Spawns the server as `npm start` does (`node packages/groundwork/bin/groundwork.js serve` from the repository
 * root) with DATA_ROOT in a scratch folder, so the developer's `.data` is never touched, and polls each app's
 * `/<app>/health/ready` until every one answers 200:
 *   - first: an empty data root and no fresh cluster kept yet (initdb, then every database created and
 *     migrated), FIRST_RUNS times (default 1);
 *   - cold: an empty data root with the fresh cluster `npm install` keeps (every database copied from it and
 *     migrated), COLD_RUNS times (default 3);
 *   - warm: the databases exist, WARM_RUNS times (default 5);
 *   - the server's RSS once all are ready (VmRSS) and its peak (VmHWM), from /proc;
 *   - `npm run build --silent` with nothing changed, BUILD_RUNS times (default 3): `npm start` runs it first;
 *   - warm through `npm start` itself (npm, the build and the server), NPM_RUNS times (default 3).
 * Prints medians (with the range) and which targets were met.
 *
 *   node bench/start/run.ts [other checkout ...]
 *
 * Other checkouts (built, with node_modules and DATA_ROOT support) are measured in the same run, each start
 * taking turns with this checkout's, so a change in the machine's load hits all of them alike.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../free-port.ts';

const FIRST_RUNS = Number(process.env.FIRST_RUNS ?? 1);
const COLD_RUNS = Number(process.env.COLD_RUNS ?? 3);
const WARM_RUNS = Number(process.env.WARM_RUNS ?? 5);
const BUILD_RUNS = Number(process.env.BUILD_RUNS ?? 3);
const NPM_RUNS = Number(process.env.NPM_RUNS ?? 3);
const TIMEOUT_MS = 120_000;
const TARGETS = { warmS: 3, coldS: 10, rssMb: 800 };

interface Start {
  /** Seconds from spawn to the first answer of any kind (the server listens). */
  listeningS: number;
  /** Seconds from spawn until every app's readiness answered 200. */
  readyS: number;
  /** Of the server process; not measured through `npm start` (npm's process is not the server). */
  rssMb: number;
  peakMb: number;
}

interface Checkout {
  root: string;
  apps: string[];
  dataRoot: string;
  /** XDG_CACHE_HOME of its server: where the fresh cluster is kept, never the developer's own. */
  cacheHome: string;
  builds: number[];
  first: Start[];
  cold: Start[];
  warm: Start[];
  npmStart: Start[];
}

/** VmRSS and VmHWM of a process, in MB (Linux). */
function memoryMb(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One start of a checkout's server (or of `npm start` there) on its data root: times to listening and to all
 * ready, memory at ready; then SIGTERM, and the process's exit is awaited.
 */
async function start(checkout: Checkout, through: 'serve' | 'npm start'): Promise<Start> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_ROOT: checkout.dataRoot,
    XDG_CACHE_HOME: checkout.cacheHome,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  for (const key of ['DATABASE_URL', 'DATA_DIR', 'TEST_DATABASE_URL', 'MIGRATE_ON_START', 'NODE_OPTIONS']) {
    delete env[key];
  }
  const [command, ...args] =
    through === 'serve'
      ? [process.execPath, join(checkout.root, 'packages', 'groundwork', 'bin', 'groundwork.js'), 'serve']
      : ['npm', 'start', '--silent'];
  const started = performance.now();
  const child = spawn(command!, args, { cwd: checkout.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const pending = new Set(checkout.apps);
  let listeningS: number | undefined;
  try {
    while (pending.size > 0) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
      if (performance.now() - started > TIMEOUT_MS) throw new Error(`not ready in time:\n${output}`);
      await Promise.all(
        [...pending].map(async (app) => {
          const response = await fetch(`http://127.0.0.1:${port}/${app}/health/ready`).catch(() => undefined);
          if (response) listeningS ??= (performance.now() - started) / 1000;
          await response?.body?.cancel();
          if (response?.status === 200) pending.delete(app);
        }),
      );
      if (pending.size > 0) await sleep(20);
    }
    const readyS = (performance.now() - started) / 1000;
    const memory = through === 'serve' ? memoryMb(child.pid!) : { rssMb: Number.NaN, peakMb: Number.NaN };
    return { listeningS: listeningS!, readyS, ...memory };
  } finally {
    child.kill('SIGTERM');
    // The next run opens the same data folders: this process must have closed them first.
    const code = await exited;
    if (code !== 0 && code !== null) {
      process.stderr.write(`server exited with ${code} on SIGTERM:\n${output}\n`);
    }
  }
}

/** What `npm install` does after the build: the fresh cluster kept (a checkout without the script has none). */
function keepFreshCluster(checkout: Checkout): void {
  const script = join(checkout.root, 'packages', 'groundwork', 'scripts', 'make-fresh-cluster.ts');
  if (!existsSync(script)) return;
  execFileSync(process.execPath, [script], {
    env: { ...process.env, XDG_CACHE_HOME: checkout.cacheHome },
    stdio: 'ignore',
  });
}

function buildSeconds(root: string): number {
  const started = performance.now();
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  return (performance.now() - started) / 1000;
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)]!;

/** "median [min-max]"; a dash where nothing was measured. */
function spread(values: number[], digits: number): string {
  const known = sorted(values.filter((v) => !Number.isNaN(v)));
  if (known.length === 0) return '-';
  const f = (v: number) => v.toFixed(digits);
  return `${f(median(known))} [${f(known[0]!)}-${f(known.at(-1)!)}]`;
}

function row(name: string, starts: Start[]): string {
  const seconds = (pick: (s: Start) => number) => spread(starts.map(pick), 2);
  const megabytes = (pick: (s: Start) => number) => spread(starts.map(pick), 0);
  const cells = [
    seconds((s) => s.listeningS),
    seconds((s) => s.readyS),
    megabytes((s) => s.rssMb),
    megabytes((s) => s.peakMb),
  ];
  return `| ${name} | ${starts.length} | ${cells.join(' | ')} |`;
}

function report(checkout: Checkout): void {
  const warmS = median(checkout.warm.map((s) => s.readyS));
  const coldS = median(checkout.cold.map((s) => s.readyS));
  const rssMb = Math.max(
    median(checkout.warm.map((s) => s.rssMb)),
    median(checkout.cold.map((s) => s.rssMb)),
  );
  const verdict = (value: string, met: boolean) => `${value}, ${met ? 'met' : 'MISSED'}`;
  console.log(`\n${checkout.root}: ${checkout.apps.length} apps (${checkout.apps.join(', ')})\n`);
  console.log('| start | runs | listening (s) | all ready (s) | VmRSS at ready (MB) | VmHWM peak (MB) |');
  console.log('|---|---|---|---|---|---|');
  console.log(row('first (empty data root, no fresh cluster kept)', checkout.first));
  console.log(row('cold (empty data root)', checkout.cold));
  console.log(row('warm (databases exist)', checkout.warm));
  console.log(row('warm, through `npm start`', checkout.npmStart));
  console.log(`\nnpm run build with nothing changed: ${spread(checkout.builds, 2)} s\n`);
  console.log(
    `warm start to ready <= ${TARGETS.warmS} s: ${verdict(`${warmS.toFixed(2)} s`, warmS <= TARGETS.warmS)}`,
  );
  console.log(
    `cold first start <= ${TARGETS.coldS} s: ${verdict(`${coldS.toFixed(2)} s`, coldS <= TARGETS.coldS)}`,
  );
  if (checkout.first.length > 0) {
    const firstS = median(checkout.first.map((s) => s.readyS));
    console.log(
      `(a first start before \`npm install\` kept a fresh cluster, initdb included: ${firstS.toFixed(2)} s)`,
    );
  }
  console.log(
    `RSS at ready <= ${TARGETS.rssMb} MB: ${verdict(`${rssMb.toFixed(0)} MB`, rssMb <= TARGETS.rssMb)}`,
  );
}

/** Runs `measure` `runs` times for every checkout in turn. */
async function takeTurns(
  name: string,
  runs: number,
  checkouts: Checkout[],
  measure: (checkout: Checkout) => Promise<void>,
): Promise<void> {
  for (let run = 1; run <= runs; run++) {
    for (const checkout of checkouts) {
      await measure(checkout);
      process.stderr.write(`${name} ${run}/${runs} done (${checkout.root})\n`);
    }
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'gw-bench-start-'));
const roots = [join(import.meta.dirname, '..', '..'), ...process.argv.slice(2).map((root) => resolve(root))];
const checkouts: Checkout[] = roots.map((root, index) => ({
  root,
  apps: readdirSync(join(root, 'apps')).filter((name) =>
    existsSync(join(root, 'apps', name, 'src', 'app.ts')),
  ),
  dataRoot: join(scratch, String(index)),
  cacheHome: join(scratch, `${index}-cache`),
  builds: [],
  first: [],
  cold: [],
  warm: [],
  npmStart: [],
}));
try {
  await takeTurns('build', BUILD_RUNS, checkouts, async (c) => {
    c.builds.push(buildSeconds(c.root));
  });
  await takeTurns('first', FIRST_RUNS, checkouts, async (c) => {
    rmSync(c.cacheHome, { recursive: true, force: true });
    rmSync(c.dataRoot, { recursive: true, force: true });
    c.first.push(await start(c, 'serve'));
  });
  for (const c of checkouts) keepFreshCluster(c);
  await takeTurns('cold', COLD_RUNS, checkouts, async (c) => {
    // Each cold run from an empty data root; the last one's databases are the warm runs'.
    rmSync(c.dataRoot, { recursive: true, force: true });
    c.cold.push(await start(c, 'serve'));
  });
  await takeTurns('warm', WARM_RUNS, checkouts, async (c) => {
    c.warm.push(await start(c, 'serve'));
  });
  await takeTurns('npm start', NPM_RUNS, checkouts, async (c) => {
    c.npmStart.push(await start(c, 'npm start'));
  });
  console.log('\nMedians [min-max].');
  for (const checkout of checkouts) report(checkout);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
