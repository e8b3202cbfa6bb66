/**
 * `npm run bench:online`: what a live app feels while Groundwork migrates its busiest table.
 *
 * Seeds `events` with 1,000,000 rows (and 1,000 `accounts`), then keeps READERS readers (a primary-key read)
 * and WRITERS writers (an update or an insert) busy on it, each running one query, then pausing 100-200 ms. For
 * each schema change it edits the scratch app's schema.ts, runs the real `groundwork db revision --autogenerate`
 * and then `groundwork db upgrade` as a deploy would, and prints the longest read and write stall (the slowest
 * query that overlapped the upgrade), the lock-timeout retries and the outcome. The last change runs while
 * another session holds `BEGIN; SELECT ... FOR SHARE` open on the table: the upgrade must retry, fail naming
 * that session, and leave the database at the previous revision.
 *
 * Needs a PostgreSQL server: TEST_DATABASE_URL (or BENCH_DATABASE_URL) names one; database gw_bench_online is
 * created on it and dropped at the end. READERS (default 4), WRITERS (default 2), ROWS (default 1000000),
 * MIGRATION_LOCK_TIMEOUT_MS (default 1000), MIGRATION_LOCK_RETRIES (default 3) and
 * MIGRATION_LOCK_RETRY_DELAY_MS (default 250) change the run.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'packages', 'groundwork', 'bin', 'groundwork.js');
/** Inside the repository, so the scratch app resolves groundwork-pg and drizzle-orm like any app. */
const APP = join(import.meta.dirname, '.app');
const READERS = Number(process.env.READERS ?? 4);
const WRITERS = Number(process.env.WRITERS ?? 2);
const ROWS = Number(process.env.ROWS ?? 1_000_000);
const LOCK_TIMEOUT_MS = Number(process.env.MIGRATION_LOCK_TIMEOUT_MS ?? 1000);
const LOCK_RETRIES = Number(process.env.MIGRATION_LOCK_RETRIES ?? 3);
const LOCK_RETRY_DELAY_MS = Number(process.env.MIGRATION_LOCK_RETRY_DELAY_MS ?? 250);
const ACCOUNTS = 1000;
const DATABASE = 'gw_bench_online';

const serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!serverUrl) {
  process.stderr.write(
    'bench:online needs a PostgreSQL server (it measures locks between sessions, which embedded PGlite does not have).\n' +
      'Run: TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:online\n',
  );
  process.exit(2);
}
const databaseUrl = Object.assign(new URL(serverUrl), { pathname: `/${DATABASE}` }).href;

// ---- the scratch app and its schema versions ----

/** schema.ts at one step: each step adds one change to the previous. */
interface Step {
  name: string;
  /** Lines of the events table's columns and extras, and the enum's values. */
  columns: string[];
  extras: string[];
  moods: string[];
  revision: string[];
  /** Hold a FOR SHARE transaction on events while upgrading. */
  blocker?: boolean;
}

const BASE_COLUMNS = [
  "id: serial('id').primaryKey()",
  "accountId: integer('account_id')",
  "kind: text('kind')",
  "code: text('code')",
  "mood: mood('mood')",
  "payload: text('payload')",
];

function schemaSource(step: Pick<Step, 'columns' | 'extras' | 'moods'>): string {
  return `import { index, integer, pgEnum, pgTable, serial, text } from 'drizzle-orm/pg-core';

export const mood = pgEnum('mood', ${JSON.stringify(step.moods)});
export const accounts = pgTable('accounts', { id: serial('id').primaryKey(), name: text('name') });
export const events = pgTable(
  'events',
  {
    ${step.columns.join(',\n    ')},
  },
  (t) => [${step.extras.join(', ')}],
);
`;
}

function writeApp(step: Pick<Step, 'columns' | 'extras' | 'moods'>) {
  mkdirSync(join(APP, 'src'), { recursive: true });
  writeFileSync(
    join(APP, 'src', 'app.ts'),
    `import { defineApp } from 'groundwork-pg';
import * as schema from './schema.ts';

export default defineApp({ name: 'benchonline', title: 'bench:online', dir: import.meta.dirname + '/..', schema, routes: async () => {} });
`,
  );
  writeFileSync(join(APP, 'src', 'schema.ts'), schemaSource(step));
}

/** Each step keeps the changes of the ones before it. */
function steps(): Step[] {
  const list: Step[] = [];
  let columns = [...BASE_COLUMNS];
  let extras: string[] = [];
  let moods = ['sad', 'ok', 'happy'];
  const add = (name: string, change: () => void, revision: string[] = [], blocker = false) => {
    change();
    list.push({ name, columns: [...columns], extras: [...extras], moods: [...moods], revision, blocker });
  };
  const column = (name: string, definition: string) => {
    columns = columns.map((line) => (line.startsWith(`${name}:`) ? definition : line));
  };
  add('add index', () => {
    extras = [...extras, "index('events_kind_idx').on(t.kind)"];
  });
  add('add foreign key', () =>
    column('accountId', "accountId: integer('account_id').references(() => accounts.id)"),
  );
  add('set NOT NULL', () => column('kind', "kind: text('kind').notNull()"));
  add('add UNIQUE', () => column('code', "code: text('code').unique()"));
  add('enum add value', () => {
    moods = [...moods, 'meh'];
  });
  add('enum rename value', () => {
    moods = moods.map((m) => (m === 'sad' ? 'unhappy' : m));
  }, ['--rename', 'enum:mood.sad=unhappy', '--allow', 'renaming-enum-value=bench: no writer writes sad']);
  add(
    'add column, blocked by FOR SHARE',
    () => {
      columns = [...columns, "note: text('note')"];
    },
    [],
    true,
  );
  return list;
}

// ---- the CLI, as a deploy runs it ----

const cliEnv = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  NODE_ENV: 'development',
  LOG_LEVEL: 'silent',
  MIGRATION_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
  MIGRATION_LOCK_RETRIES: String(LOCK_RETRIES),
  MIGRATION_LOCK_RETRY_DELAY_MS: String(LOCK_RETRY_DELAY_MS),
};

async function groundwork(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd: APP, env: cliEnv });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code: typeof code === 'number' ? code : 1, stdout, stderr };
  }
}

async function must(...args: string[]) {
  const result = await groundwork(...args);
  if (result.code !== 0)
    throw new Error(`groundwork ${args.join(' ')} exited ${result.code}:\n${result.stdout}${result.stderr}`);
  return result;
}

// ---- the load: readers and writers at a steady pace, every query timed ----

interface Timed {
  kind: 'read' | 'write';
  start: number;
  end: number;
  error?: string;
}

function startLoad(sql: postgres.Sql) {
  const done: Timed[] = [];
  const inFlight = new Set<Timed>();
  let running = true;
  const pause = () => new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 100));
  const worker = async (kind: 'read' | 'write') => {
    while (running) {
      const id = 1 + Math.floor(Math.random() * ROWS);
      const entry: Timed = { kind, start: performance.now(), end: Number.NaN };
      inFlight.add(entry);
      try {
        if (kind === 'read') await sql`select id, kind, code, mood, payload from events where id = ${id}`;
        else if (Math.random() < 0.5)
          await sql`update events set payload = md5(random()::text) where id = ${id}`;
        else
          await sql`insert into events (account_id, kind, code, mood, payload)
                    values (${1 + (id % ACCOUNTS)}, 'written', ${`w${crypto.randomUUID()}`}, 'ok', 'live')`;
      } catch (error) {
        entry.error = (error as Error).message;
      }
      entry.end = performance.now();
      inFlight.delete(entry);
      done.push(entry);
      await pause();
    }
  };
  const workers = [
    ...Array.from({ length: READERS }, () => worker('read')),
    ...Array.from({ length: WRITERS }, () => worker('write')),
  ];
  return {
    /** The longest query of `kind` that overlapped [from, to] (one still running counts until now). */
    longest(kind: 'read' | 'write', from: number, to: number) {
      const now = performance.now();
      const overlapping = [...done, ...[...inFlight].map((e) => ({ ...e, end: now }))].filter(
        (e) => e.kind === kind && e.end >= from && e.start <= to,
      );
      return {
        ms: Math.max(0, ...overlapping.map((e) => e.end - e.start)),
        queries: overlapping.length,
        errors: overlapping.filter((e) => e.error).map((e) => e.error!),
      };
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

// ---- the run ----

const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
try {
  await admin`select 1`;
} catch (error) {
  process.stderr.write(
    `bench:online could not reach the server at ${new URL(serverUrl).host}: ${(error as Error).message}\n`,
  );
  process.exit(2);
}
await admin.unsafe(`drop database if exists ${DATABASE} with (force)`);
await admin.unsafe(`create database ${DATABASE}`);
rmSync(APP, { recursive: true, force: true });
const sql = postgres(databaseUrl, {
  max: READERS + WRITERS + 2,
  onnotice: () => {},
  connection: { application_name: 'bench-app' },
});

interface Row {
  step: string;
  read: number;
  write: number;
  retries: number;
  outcome: string;
  seconds: number;
}
const rows: Row[] = [];

try {
  const plan = steps();
  writeApp({ columns: BASE_COLUMNS, extras: [], moods: ['sad', 'ok', 'happy'] });
  await must('db', 'revision', '-m', 'events', '--autogenerate');
  await must('db', 'upgrade');
  const seedStarted = performance.now();
  await sql`insert into accounts (name) select 'account ' || g from generate_series(1, ${ACCOUNTS}) g`;
  await sql`insert into events (account_id, kind, code, mood, payload)
            select 1 + g % ${ACCOUNTS}, 'k' || (g % 50), 'c' || g, (array['sad', 'ok', 'happy'])[1 + g % 3]::mood, md5(g::text)
              from generate_series(1, ${ROWS}) g`;
  await sql`vacuum analyze events`;
  process.stdout.write(
    `seeded ${ROWS.toLocaleString('en')} events in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s; ` +
      `${READERS} readers, ${WRITERS} writers, one query each every 100-200 ms; lock_timeout ${LOCK_TIMEOUT_MS} ms, ` +
      `${LOCK_RETRIES} retries from ${LOCK_RETRY_DELAY_MS} ms\n`,
  );

  const load = startLoad(sql);
  // the first second opens the connections; the next two show what the app feels with no migration
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const quietEnd = performance.now();
  const [quietRead, quietWrite] = [
    load.longest('read', quietEnd - 2000, quietEnd),
    load.longest('write', quietEnd - 2000, quietEnd),
  ];
  rows.push({
    step: '(no migration, 2 s)',
    read: quietRead.ms,
    write: quietWrite.ms,
    retries: 0,
    outcome: '',
    seconds: 2,
  });

  for (const step of plan) {
    writeApp(step);
    const revision = await must('db', 'revision', '-m', step.name, '--autogenerate', ...step.revision);
    const written = /^Created (.+?)(?: \(review|$)/m.exec(revision.stdout)?.[1]?.split(', ').length ?? 0;
    const blocker = step.blocker
      ? postgres(databaseUrl, { max: 1, connection: { application_name: 'bench-blocker' } })
      : undefined;
    let release: (() => void) | undefined;
    let blockerPid = 0;
    const holding = blocker?.begin(async (tx) => {
      const [row] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
      blockerPid = row!.pid;
      await tx`select id from events where id = 1 for share`;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    if (blocker) while (!release) await new Promise((resolve) => setTimeout(resolve, 10));
    const [before] = await sql<{ id: string }[]>`select max(id) as id from schema_migrations`;

    const started = performance.now();
    const result = await groundwork('db', 'upgrade');
    const ended = performance.now();
    release?.();
    await holding;
    await blocker?.end();

    const [after] = await sql<{ id: string }[]>`select max(id) as id from schema_migrations`;
    const retries =
      (result.stdout + result.stderr).match(/^lock timeout .*; retry \d+ of \d+/gm)?.length ?? 0;
    const read = load.longest('read', started, ended);
    const write = load.longest('write', started, ended);
    const errors = [...read.errors, ...write.errors];
    let outcome: string;
    if (result.code === 0) outcome = `applied ${written} migration(s)`;
    else {
      const namesBlocker = new RegExp(`pid ${blockerPid} \\(application_name "bench-blocker"`).test(
        result.stderr,
      );
      outcome =
        `failed${namesBlocker ? ', naming the blocker' : ' WITHOUT naming the blocker'}; ` +
        `${before!.id === after!.id ? 'still at the previous revision' : `NOT at the previous revision (${after!.id})`}`;
    }
    if (errors.length) outcome += `; ${errors.length} app error(s): ${errors[0]}`;
    rows.push({
      step: step.name,
      read: read.ms,
      write: write.ms,
      retries,
      outcome,
      seconds: (ended - started) / 1000,
    });
    if (step.blocker && result.code !== 0) {
      // the blocker is gone: the same migration now applies
      const rerun = await groundwork('db', 'upgrade');
      rows.at(-1)!.outcome += rerun.code === 0 ? '; applied once the blocker ended' : '; rerun failed too';
    }
  }
  await load.stop();
} finally {
  await sql.end();
  await admin.unsafe(`drop database if exists ${DATABASE} with (force)`);
  await admin.end();
  rmSync(APP, { recursive: true, force: true });
}

const fmt = (ms: number) => `${Math.round(ms)} ms`;
const table = [
  '| schema change | longest read stall | longest write stall | retries | upgrade | outcome |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.step} | ${fmt(r.read)} | ${fmt(r.write)} | ${r.retries} | ${r.seconds.toFixed(1)} s | ${r.outcome} |`,
  ),
];
process.stdout.write(`${table.join('\n')}\n`);
const limit = (row: Row) => (row.step.includes('blocked') ? LOCK_TIMEOUT_MS + 100 : 200);
const missed = rows.slice(1).filter((row) => Math.max(row.read, row.write) > limit(row));
process.stdout.write(
  missed.length
    ? `targets missed (<= 200 ms, <= lock_timeout + 100 ms with the blocker): ${missed.map((r) => r.step).join(', ')}\n`
    : 'targets met: every stall <= 200 ms, and <= lock_timeout + 100 ms with the blocker\n',
);
