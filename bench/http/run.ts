/**
 * `npm run bench:http`: the apps against floors that do the same work by hand (plain Fastify + postgres.js,
 * no validation library, no logging), on one PostgreSQL server, driven by wrk (Debian's package: it uses far
 * less CPU than a Node load generator on 2 cores). Every scenario runs against its own floor; the servers take
 * turns, ROUNDS times, and the medians, the ratios to the floor with their spread, the CPU per request and
 * every round's figures (with the load average as it began) are printed. See docs/performance.md.
 *
 * BENCH=apps (default), suites (SUITES, comma-separated; default all):
 *   operator  learnr with an operator key: GET user, PATCH user, list, health (floor: bench/http/floor.ts)
 *   session   learnr users with their login session token: GET and PATCH of their own row (the floor checks
 *             the session in the query that reads or writes it)
 *   jwt       rnd-cards users with an ID token from a loopback issuer (JWT_ALG, RS256 or ES256): GET of their
 *             own row (bench/http/floor-jwt.ts: jose, then one query)
 * Each app is measured at LOG_LEVEL=info and warn, in production mode. Every round starts every server afresh
 * and warms it up (WARM_UP_S per scenario) before its runs.
 *
 * BENCH=workers: learnr `serve --workers 2` against one process (at info), GET and PATCH with the operator
 * key and with session tokens; the CPU per request counts the primary and its workers.
 *
 * BENCH=observability: learnr (at info, operator key and session tokens) with METRICS=false as the baseline,
 * against the default (metrics on; target: at least 0.97 of the baseline's throughput) and against metrics with
 * tracing on (OTEL_EXPORTER_OTLP_ENDPOINT at a loopback sink that discards the spans; its cost is printed).
 *
 * Server: TEST_DATABASE_URL or the local PostgreSQL. DURATION seconds per run (default 5); CONNECTIONS
 * (default 50); TOKEN_USERS users log in or get a token (default 200). SCENARIOS (comma-separated names such
 * as `GET user`) keeps only those scenarios. PROFILE=1 runs every server under `node --cpu-prof` and prints
 * where each spends its CPU per request (bench/http/profile.ts): use it with one scenario. PROFILE_FUNCTIONS
 * names some of its categories (comma-separated, such as `groundwork-pg,node:crypto`) to print their functions.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { loadAverage } from '../proc.ts';
import { connectionBudget, connectionRoom } from './connections.ts';
import { startIssuer } from './issuer.ts';
import { appDatabase, seedLearnrUsers, shapes, USERS } from './learnr-data.ts';
import { logIn } from './login.ts';
import { startOtlpSink } from './otlp-sink.ts';
import { restartServer, type Server, startServer, stopServer } from './processes.ts';
import { printProfiles } from './profile.ts';
import { printSuite, type Results, resultKey, type Scenario, type Suite } from './report.ts';
import { type Callers, runWrk, wrkScript } from './wrk.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'packages', 'groundwork', 'bin', 'groundwork.js');
const MODE = process.env.BENCH ?? 'apps';
const SUITES = (process.env.SUITES ?? 'operator,session,jwt').split(',').map((name) => name.trim());
const SCENARIOS = process.env.SCENARIOS?.split(',').map((name) => name.trim());
const PROFILE = process.env.PROFILE === '1';
const PROFILE_FUNCTIONS = process.env.PROFILE_FUNCTIONS?.split(',').map((name) => name.trim()) ?? [];
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = Number(process.env.DURATION ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const TOKEN_USERS = Number(process.env.TOKEN_USERS ?? 200);
const JWT_ALG = process.env.JWT_ALG ?? 'RS256';
const PASSWORD = 'bench-password-1';
const OPERATOR_KEY = randomBytes(32).toString('base64url');
const WARM_UP_S = 2;
/** Longer than any run, so no request meets an expired token (issuers' ID tokens live an hour). */
const TOKEN_LIFETIME_S = 12 * 3600;
/**
 * The floors run postgres.js with the bounded queue the apps' CLI gives theirs (adapters/postgres-queue.ts):
 * its own slows a busy server down by the minute, which is no floor.
 */
const FLOOR_NODE = [process.execPath, '--import', 'groundwork-pg/postgres-queue'];
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

if (!['apps', 'workers', 'observability'].includes(MODE)) {
  throw new Error(`BENCH must be apps, workers or observability, not ${MODE}`);
}
if (JWT_ALG !== 'RS256' && JWT_ALG !== 'ES256')
  throw new Error(`JWT_ALG must be RS256 or ES256, not ${JWT_ALG}`);
if (!Number.isInteger(TOKEN_USERS) || TOKEN_USERS < CONNECTIONS) {
  // Fewer users than connections would put two requests of one user in flight at once (a PATCH then waits
  // for the other's row lock).
  throw new Error(`TOKEN_USERS must be a whole number of at least CONNECTIONS (${CONNECTIONS})`);
}
for (const suite of SUITES) {
  if (!['operator', 'session', 'jwt'].includes(suite)) throw new Error(`unknown suite in SUITES: ${suite}`);
}
const wanted = (suite: string) => SUITES.includes(suite) && (MODE === 'apps' || suite !== 'jwt');

const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
const scratch = mkdtempSync(join(tmpdir(), 'gw-bench-http-'));
const databases: string[] = [];
const servers: Server[] = [];
const budget = connectionBudget(await connectionRoom(admin));
const closers: (() => Promise<void>)[] = [];

/** A fresh database at head of an app's migrations, dropped at the end; answers its URL. */
async function freshDatabase(name: string, appDir: string, env: NodeJS.ProcessEnv): Promise<string> {
  databases.push(name);
  return appDatabase(admin, serverUrl, name, appDir, env);
}

/**
 * An app's pool size (its definition's default), given to its servers and its floor as DB_POOL_MAX, so the
 * bench knows how many connections it opens.
 */
async function poolOf(appDir: string): Promise<string> {
  const { default: app } = await import(join(appDir, 'src', 'app.ts'));
  const pool = (app as { defaults?: { poolMax?: number } }).defaults?.poolMax;
  if (!pool) throw new Error(`${appDir}: its definition sets no defaults.poolMax`);
  return String(pool);
}

/**
 * Starts a server, its pool (env.DB_POOL_MAX, one per process of `serve --workers N`) counted against the
 * server's room first; every one started is stopped at the end.
 */
async function start(
  name: string,
  command: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  readyPath: string,
) {
  const workers = command.indexOf('--workers');
  budget.reserve(name, Number(env.DB_POOL_MAX) * (workers === -1 ? 1 : Number(command[workers + 1])));
  const [node, ...rest] = command;
  const profiling = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', profileDir(name)] : [];
  const server = await startServer(name, [node!, ...profiling, ...rest], { env, cwd, readyPath });
  servers.push(server);
  return server;
}

const profileDir = (serverName: string) => join(scratch, 'profiles', serverName.replace(/\W+/g, '-'));
/**
 * Requests each server answered, warm-ups included, and when its first run began (the monotonic clock in µs,
 * which V8's profiles share): the profile's CPU from then on is divided by them.
 */
const driven = new Map<Server, { requests: number; fromUs: number }>();
async function drive(server: Server, script: string, seconds: number) {
  const fromUs = driven.get(server)?.fromUs ?? Number(process.hrtime.bigint() / 1000n);
  const result = await runWrk(server, script, seconds, CONNECTIONS);
  driven.set(server, { requests: (driven.get(server)?.requests ?? 0) + result.requests, fromUs });
  return result;
}

let scriptCount = 0;
function scenario(
  name: keyof typeof shapes,
  callers: Callers,
  targets: Record<string, number> = {},
): Scenario {
  const script = join(scratch, `${scriptCount++}.lua`);
  writeFileSync(script, wrkScript(shapes[name], callers));
  return { name, script, targets };
}

try {
  // The apps in production need a credential: operators' key, and the users' own tokens where measured.
  const appEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    ADMIN_API_KEYS: OPERATOR_KEY,
  };
  delete appEnv.TEST_DATABASE_URL;
  const suites: Suite[] = [];

  if (wanted('operator') || wanted('session')) {
    const learnrDir = join(ROOT, 'apps', 'learnr');
    const url = await freshDatabase('gw_bench_http', learnrDir, appEnv);
    // One real argon2id hash for every row: hashing 10,000 would take minutes.
    const { hashPassword } = await import('groundwork-pg');
    const ids = await seedLearnrUsers(url, await hashPassword(PASSWORD));
    const db = postgres(url, { max: 1, onnotice: () => {} });
    const tokenUsers = await db<{ id: string; email: string }[]>`
      select id, email from users order by random() limit ${TOKEN_USERS}`;
    await db.end();

    const env = { ...appEnv, DATABASE_URL: url, DB_POOL_MAX: await poolOf(learnrDir) };
    const serve = (name: string, extra: string[], level: string, more: NodeJS.ProcessEnv = {}) =>
      start(
        name,
        [process.execPath, BIN, 'serve', ...extra],
        { ...env, LOG_LEVEL: level, ...more },
        learnrDir,
        '/health/ready',
      );
    const observed = async () => {
      const sink = await startOtlpSink();
      closers.push(sink.close);
      return [
        await serve('metrics off', [], 'info', { METRICS: 'false' }),
        await serve('metrics on', [], 'info'),
        await serve('metrics and tracing', [], 'info', { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }),
      ];
    };
    const learnr =
      MODE === 'apps'
        ? [await serve('learnr info', [], 'info'), await serve('learnr warn', [], 'warn')]
        : MODE === 'workers'
          ? [await serve('1 worker', [], 'info'), await serve('2 workers', ['--workers', '2'], 'info')]
          : await observed();
    const floor = (auth: string) =>
      start(
        auth === 'session' ? 'floor (session)' : 'floor',
        [...FLOOR_NODE, join(ROOT, 'bench', 'http', 'floor.ts')],
        { ...env, FLOOR_AUTH: auth },
        ROOT,
        '/api/v1/health',
      );
    // In workers mode one process is the baseline, in observability mode metrics off; in apps mode each suite
    // has its own floor.
    const baseline = MODE === 'apps' ? undefined : learnr[0];
    const contenders = MODE === 'apps' ? learnr : learnr.slice(1);
    const operator: Callers = { kind: 'operator', key: OPERATOR_KEY, ids };
    const levels = (info: number, warn: number) => ({ 'learnr info': info, 'learnr warn': warn });
    // Metrics may cost at most 3% of throughput; tracing's cost is printed, not judged.
    const metricsTarget = { 'metrics on': 0.97 };

    if (wanted('operator')) {
      suites.push({
        name: 'operator key',
        about:
          MODE === 'apps'
            ? `learnr with an operator key (ADMIN_API_KEYS), a random one of ${USERS.toLocaleString('en-US')} users per request; the floor reads no credential.`
            : `learnr with an operator key (ADMIN_API_KEYS), a random one of ${USERS.toLocaleString('en-US')} users per request.`,
        baseline: baseline ?? (await floor('none')),
        contenders,
        scenarios:
          MODE === 'apps'
            ? [
                scenario('GET user', operator, levels(0.85, 0.9)),
                scenario('PATCH user', operator, levels(0.8, 0.8)),
                scenario('list', operator, levels(1.0, 1.0)),
                scenario('health', operator, levels(0.85, 0.8)),
              ]
            : MODE === 'observability'
              ? [
                  scenario('GET user', operator, metricsTarget),
                  scenario('PATCH user', operator, metricsTarget),
                ]
              : [scenario('GET user', operator), scenario('PATCH user', operator)],
        p99Limit: MODE === 'apps' ? 1.5 : undefined,
      });
    }
    if (wanted('session')) {
      // Through the real login route, as a client does: whatever a session costs the app is measured.
      const tokens = await logIn(
        `${contenders[0]!.url}/api/v1/auth/login`,
        tokenUsers.map((user) => ({ email: user.email, password: PASSWORD })),
      );
      const users: Callers = {
        kind: 'users',
        users: tokenUsers.map((user, i) => ({ id: user.id, token: tokens[i]! })),
      };
      suites.push({
        name: 'session token',
        about:
          `${TOKEN_USERS} learnr users, logged in through POST /api/v1/auth/login, each reading or updating their own row with their session token` +
          (MODE === 'apps'
            ? '; the floor checks in the same query that an unexpired session with the SHA-256 of the token belongs to the row.'
            : '.'),
        baseline: baseline ?? (await floor('session')),
        contenders,
        scenarios: [
          scenario('GET user', users, levels(0.8, 0.8)),
          scenario('PATCH user', users, levels(0.8, 0.8)),
        ].map((s) =>
          MODE === 'apps' ? s : { ...s, targets: MODE === 'observability' ? metricsTarget : {} },
        ),
      });
    }
  }

  if (wanted('jwt')) {
    const rndDir = join(ROOT, 'apps', 'rnd-cards');
    const url = await freshDatabase('gw_bench_http_rnd', rndDir, appEnv);
    const db = postgres(url, { max: 1, onnotice: () => {} });
    await db`insert into users (email, name, cognito_sub, created_at)
             select 'user' || g || '@bench.test', 'User ' || g, 'bench-sub-' || g, now() - g * interval '1 second'
               from generate_series(1, ${USERS}) g`;
    const tokenUsers = await db<{ id: string; sub: string }[]>`
      select id, cognito_sub as sub from users order by random() limit ${TOKEN_USERS}`;
    await db.end();
    const issuer = await startIssuer(JWT_ALG, 'rnd-cards');
    closers.push(issuer.close);
    const tokens = await Promise.all(tokenUsers.map((user) => issuer.sign(user.sub, TOKEN_LIFETIME_S)));
    const env = {
      ...appEnv,
      DATABASE_URL: url,
      DB_POOL_MAX: await poolOf(rndDir),
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: issuer.audience,
      AUTH_JWKS_URL: issuer.jwksUrl,
    };
    const serve = (level: string) =>
      start(
        `rnd-cards ${level}`,
        [process.execPath, BIN, 'serve'],
        { ...env, LOG_LEVEL: level },
        rndDir,
        '/health/ready',
      );
    const users: Callers = {
      kind: 'users',
      users: tokenUsers.map((user, i) => ({ id: user.id, token: tokens[i]! })),
    };
    suites.push({
      name: 'JWT',
      about: `${TOKEN_USERS} rnd-cards users, each reading their own row with an ${JWT_ALG} ID token from an OpenID issuer on loopback (the app fetches its discovery document and key set); the floor verifies the token with jose and reads the row in one query.`,
      baseline: await start(
        'floor (jwt)',
        [...FLOOR_NODE, join(ROOT, 'bench', 'http', 'floor-jwt.ts')],
        env,
        ROOT,
        '/health',
      ),
      contenders: [await serve('info'), await serve('warn')],
      scenarios: [scenario('GET user', users, { 'rnd-cards info': 0.8, 'rnd-cards warn': 0.8 })],
    });
  }
  if (SCENARIOS) {
    for (const suite of suites) suite.scenarios = suite.scenarios.filter((s) => SCENARIOS.includes(s.name));
    suites.splice(0, suites.length, ...suites.filter((suite) => suite.scenarios.length > 0));
  }
  if (suites.length === 0)
    throw new Error(
      `nothing to measure: SUITES=${SUITES.join(',')}${SCENARIOS ? `, SCENARIOS=${SCENARIOS.join(',')}` : ''} (BENCH=workers runs operator and session)`,
    );

  const runs = suites.reduce((sum, s) => sum + s.scenarios.length * (1 + s.contenders.length), 0);
  process.stderr.write(
    `${runs} runs per round, ${ROUNDS} rounds of ${DURATION} s runs, each after fresh starts and a ${WARM_UP_S} s warm-up: about ${Math.ceil((runs * ROUNDS * (DURATION + WARM_UP_S + 1)) / 60)} min\n`,
  );
  const results: Results = new Map();
  const roundLoads: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Every round on fresh processes: a server that has long served the whole mix of scenarios can run
    // slower than a fresh one (the floor did, docs/performance.md), and rounds should be alike. A profile
    // keeps its processes, whose start-up it would otherwise count.
    if (round > 1 && !PROFILE) {
      for (const server of servers) await stopServer(server);
      for (const server of servers) await restartServer(server);
    }
    for (const suite of suites) {
      for (const s of suite.scenarios) {
        // Warm-up: JIT, pools, caches (a token's first verification, the key set's first fetch).
        for (const server of [suite.baseline, ...suite.contenders]) await drive(server, s.script, WARM_UP_S);
      }
    }
    roundLoads.push(loadAverage());
    for (const suite of suites) {
      // The order flips every round (baseline first, then last): a machine's speed can drift over a run
      // (docs/performance.md), and a fixed order would hand the drift to whichever server always runs last.
      const inTurn = [suite.baseline, ...suite.contenders];
      const order = round % 2 === 1 ? inTurn : inTurn.reverse();
      for (const s of suite.scenarios) {
        for (const server of order) {
          const key = resultKey(suite, s, server);
          results.set(key, [...(results.get(key) ?? []), await drive(server, s.script, DURATION)]);
        }
      }
    }
    process.stderr.write(`round ${round}/${ROUNDS} done (load average before it: ${roundLoads.at(-1)})\n`);
  }

  console.log(
    `\nNode ${process.version}, ${{ apps: 'apps against their floors', workers: '`serve --workers 2` against one process', observability: 'metrics and tracing against METRICS=false' }[MODE]}, ${USERS.toLocaleString('en-US')} users, wrk ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s (medians).`,
  );
  console.log(
    `Load average (1, 5, 15 min) before each round: ${roundLoads.map((l, i) => `${i + 1}: ${l}`).join('; ')}.`,
  );
  const missed = suites.flatMap((suite) => printSuite(suite, results));
  const judged = suites.some(
    (s) => s.p99Limit !== undefined || s.scenarios.some((x) => Object.keys(x.targets).length),
  );
  if (judged) {
    console.log(
      `\nTargets: ${missed.length === 0 ? 'all met' : `${missed.length} missed (${missed.join('; ')})`}`,
    );
  }
} finally {
  // A profile is written as its process exits.
  await Promise.all(servers.map(stopServer));
  if (PROFILE) {
    const profiled = servers.filter((server) => driven.has(server));
    const profiles = profiled.map((server) => ({
      name: server.name,
      dir: profileDir(server.name),
      ...driven.get(server)!,
    }));
    printProfiles(profiles);
    for (const category of PROFILE_FUNCTIONS) printProfiles(profiles, category);
  }
  for (const close of closers) await close();
  rmSync(scratch, { recursive: true, force: true });
  for (const name of databases) await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end();
}
