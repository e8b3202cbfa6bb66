/**
 * `npm run bench:start`: how long `npm start` takes to serve every app on embedded PGlite, and its memory.
 *
 * Runs `npm start` in the checkout with DATA_ROOT and XDG_CACHE_HOME in a scratch folder (the developer's
 * `.data` and caches are never touched) and polls each app's `/<app>/health/ready` until every one answers 200:
 *   - cold: the first `npm start` after `npm install`: no databases yet (each is copied from the fresh cluster
 *     `npm install` keeps, then migrated) and nothing in Node's compile cache; COLD_RUNS (default 3). The
 *     operating system's file cache is not dropped (that needs root and slows everyone else down);
 *   - warm: `npm start` again, the databases there and the build current; WARM_RUNS (default 5);
 *   - first: a cold start before any fresh cluster was kept (initdb included); FIRST_RUNS (default 1);
 *   - the server alone, warm: the command the start script `exec`s, without npm and the build check;
 *     SERVE_RUNS (default 3);
 *   - the build step of `npm start` with nothing changed; CHECK_RUNS (default 3).
 * For each start: seconds to the first answer and to all ready, the CPU time the whole start used until then
 * (npm, the build check, the server), the server's RSS at ready and its peak, and the load average before it.
 * Prints every start, then medians with their range and which targets were met.
 *
 *   node bench/start/run.ts [other checkout ...]
 *
 * Other checkouts (built, with node_modules and DATA_ROOT support) are measured in the same run, each start
 * taking turns with this checkout's, so a change in the machine's load hits all of them alike. The CPU time
 * moves far less with the load than the seconds do.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../free-port.ts';
import { commandLine, cpuMs, loadAverage, memoryMb, processTree } from '../proc.ts';

const RUNS = {
  first: Number(process.env.FIRST_RUNS ?? 1),
  cold: Number(process.env.COLD_RUNS ?? 3),
  warm: Number(process.env.WARM_RUNS ?? 5),
  serve: Number(process.env.SERVE_RUNS ?? 3),
  check: Number(process.env.CHECK_RUNS ?? 3),
};
const TIMEOUT_MS = 120_000;
const TARGETS = { warmS: 1.5, coldS: 4, rssMb: 450 };

type Kind = 'first' | 'cold' | 'warm' | 'serve';
const LABELS: Record<Kind, string> = {
  first: 'first `npm start` (no fresh cluster kept: initdb)',
  cold: 'cold `npm start` (after `npm install`)',
  warm: 'warm `npm start`',
  serve: 'warm, the server alone (what `npm start` execs)',
};

interface Start {
  load: string;
  /** Seconds from spawn to the first answer of any kind (the server listens). */
  listeningS: number;
  /** Seconds from spawn until every app's readiness answered 200. */
  readyS: number;
  /** CPU seconds used by then: npm, the build check and the server. */
  cpuS: number;
  rssMb: number;
  peakMb: number;
}

interface Checkout {
  root: string;
  /** What its `npm start` script runs before the server (the build), and the server it then `exec`s. */
  buildStep: string;
  server: string;
  apps: string[];
  dataRoot: string;
  /** XDG_CACHE_HOME of its server: the fresh cluster and the compile cache, never the developer's own. */
  cacheHome: string;
  checks: number[];
  starts: Record<Kind, Start[]>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server among a start's processes: itself, or under npm (its shell `exec`s it). */
function serverPid(pid: number, through: Kind): number | undefined {
  if (through === 'serve') return pid;
  return processTree(pid).find((member) => /groundwork(\.js)? serve/.test(commandLine(member)));
}

/**
 * One start (`npm start`, or the server alone) on the checkout's data root: times to listening and to all
 * ready, CPU and memory at ready; then SIGTERM, and the exit is awaited.
 */
async function start(checkout: Checkout, kind: Kind): Promise<Start> {
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
  // The server alone: what the start script `exec`s, run as npm runs it (its bin folder first on PATH).
  const [command, ...args] =
    kind === 'serve' ? ['sh', '-c', `exec ${checkout.server}`] : ['npm', 'start', '--silent'];
  if (kind === 'serve') env.PATH = `${join(checkout.root, 'node_modules', '.bin')}:${env.PATH}`;
  const load = loadAverage();
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
    const cpuS = cpuMs(processTree(child.pid!), { reaped: true }) / 1000;
    const server = serverPid(child.pid!, kind);
    const memory = server ? memoryMb(server) : { rssMb: Number.NaN, peakMb: Number.NaN };
    return { load, listeningS: listeningS!, readyS, cpuS, ...memory };
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

/** Seconds the build step of the checkout's `npm start` takes: its script up to `&& exec`, as npm runs it. */
function checkSeconds(checkout: Checkout): number {
  const env = { ...process.env, PATH: `${join(checkout.root, 'node_modules', '.bin')}:${process.env.PATH}` };
  const started = performance.now();
  execFileSync('sh', ['-c', checkout.buildStep], { cwd: checkout.root, env, stdio: 'inherit' });
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

const cellsOf = (s: Start) => [
  s.listeningS.toFixed(2),
  s.readyS.toFixed(2),
  s.cpuS.toFixed(2),
  s.rssMb.toFixed(0),
  s.peakMb.toFixed(0),
];

function report(checkout: Checkout): void {
  const { starts } = checkout;
  console.log(`\n${checkout.root}: ${checkout.apps.length} apps (${checkout.apps.join(', ')})\n`);
  console.log('Each start (load average 1, 5, 15 min before it):\n');
  console.log(
    '| start | load | listening (s) | all ready (s) | CPU (s) | VmRSS at ready (MB) | VmHWM peak (MB) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const kind of Object.keys(LABELS) as Kind[]) {
    for (const s of starts[kind]) console.log(`| ${kind} | ${s.load} | ${cellsOf(s).join(' | ')} |`);
  }
  console.log('\nMedians [min-max]:\n');
  console.log(
    '| start | runs | listening (s) | all ready (s) | CPU (s) | VmRSS at ready (MB) | VmHWM peak (MB) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const kind of Object.keys(LABELS) as Kind[]) {
    const runs = starts[kind];
    if (runs.length === 0) continue;
    const column = (pick: (s: Start) => number, digits: number) => spread(runs.map(pick), digits);
    const cells = [
      column((s) => s.listeningS, 2),
      column((s) => s.readyS, 2),
      column((s) => s.cpuS, 2),
      column((s) => s.rssMb, 0),
      column((s) => s.peakMb, 0),
    ];
    console.log(`| ${LABELS[kind]} | ${runs.length} | ${cells.join(' | ')} |`);
  }
  console.log(`\nthe build step of \`npm start\` with nothing changed: ${spread(checkout.checks, 2)} s\n`);
  const verdict = (what: string, value: number, unit: string, limit: number) =>
    console.log(
      `${what} <= ${limit} ${unit}: ${Number.isNaN(value) ? 'not measured' : `${value.toFixed(unit === 's' ? 2 : 0)} ${unit}, ${value <= limit ? 'met' : 'MISSED'}`}`,
    );
  const medianOf = (kind: Kind, pick: (s: Start) => number) =>
    starts[kind].length ? median(starts[kind].map(pick)) : Number.NaN;
  verdict(
    'warm `npm start` to all ready',
    medianOf('warm', (s) => s.readyS),
    's',
    TARGETS.warmS,
  );
  verdict(
    'cold `npm start` to all ready',
    medianOf('cold', (s) => s.readyS),
    's',
    TARGETS.coldS,
  );
  const rssOf = (kind: Kind) => medianOf(kind, (s) => s.rssMb);
  const medians = [rssOf('cold'), rssOf('warm')].filter((v) => !Number.isNaN(v));
  verdict(
    'RSS at ready (the higher of the cold and warm medians)',
    medians.length ? Math.max(...medians) : Number.NaN,
    'MB',
    TARGETS.rssMb,
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
/** A checkout's start script, `<build step> && exec <server>`, in its two parts. */
function startScript(root: string): { buildStep: string; server: string } {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const parts = /^(.+?) && exec (.+)$/.exec(manifest.scripts.start);
  if (!parts) throw new Error(`${root}: the start script is not "<build step> && exec <server command>"`);
  return { buildStep: parts[1]!, server: parts[2]! };
}

const checkouts: Checkout[] = roots.map((root, index) => ({
  root,
  ...startScript(root),
  apps: readdirSync(join(root, 'apps')).filter((name) =>
    existsSync(join(root, 'apps', name, 'src', 'app.ts')),
  ),
  dataRoot: join(scratch, String(index)),
  cacheHome: join(scratch, `${index}-cache`),
  checks: [],
  starts: { first: [], cold: [], warm: [], serve: [] },
}));
try {
  await takeTurns('build check', RUNS.check, checkouts, async (c) => {
    c.checks.push(checkSeconds(c));
  });
  await takeTurns('first', RUNS.first, checkouts, async (c) => {
    rmSync(c.cacheHome, { recursive: true, force: true });
    rmSync(c.dataRoot, { recursive: true, force: true });
    c.starts.first.push(await start(c, 'first'));
  });
  for (const c of checkouts) keepFreshCluster(c);
  await takeTurns('cold', RUNS.cold, checkouts, async (c) => {
    // Each cold run as after `npm install`: no databases and no compiled code cached; the last one's
    // databases are the warm runs'.
    rmSync(c.dataRoot, { recursive: true, force: true });
    rmSync(join(c.cacheHome, 'groundwork', 'node-compile-cache'), { recursive: true, force: true });
    c.starts.cold.push(await start(c, 'cold'));
  });
  await takeTurns('warm', RUNS.warm, checkouts, async (c) => {
    c.starts.warm.push(await start(c, 'warm'));
  });
  await takeTurns('server alone', RUNS.serve, checkouts, async (c) => {
    c.starts.serve.push(await start(c, 'serve'));
  });
  for (const checkout of checkouts) report(checkout);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
