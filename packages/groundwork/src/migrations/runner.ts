import type { DatabaseHandle, SqlSession } from '../database/open.ts';
import { inTransaction, withSession } from '../database/sessions.ts';
import { redactSecrets } from '../redact.ts';
import { type Migration, readMigrations } from './folder.ts';
import { fromMergedBranch, headsProblem, type Lineage, readLineage } from './lineage.ts';

export const MIGRATIONS_TABLE = 'schema_migrations';
/** One advisory lock key for every Groundwork migration command (locks are per database). */
const LOCK_KEY = 7_101_971_523_114_007n;

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export interface AppliedRow {
  id: string;
  checksum: string;
  applied_at: string;
  execution_ms: number;
}

export interface StepResult {
  id: string;
  name: string;
  ms: number;
}

export type Direction = 'up' | 'down';

export interface RunResult {
  direction: Direction;
  steps: StepResult[];
  /** Revision before and after: an id or null for base. */
  from: string | null;
  to: string | null;
  /** With `sql: true`: what would run, nothing executed. */
  sql?: string;
}

/** What `stamp` recorded: the migrations now marked applied, none of them run (so no direction, no times). */
export interface StampResult {
  steps: { id: string; name: string }[];
  from: string | null;
  to: string | null;
}

export interface RunOptions {
  /** One line per migration and notices (waiting for the lock). */
  log?: (line: string) => void;
  /** Print the SQL instead of running it. */
  sql?: boolean;
  allowOutOfOrder?: boolean;
  /** Recorded as the environment the database was last migrated under; default NODE_ENV or development. */
  environment?: string;
}

export interface MigrationState {
  migrations: Migration[];
  applied: AppliedRow[];
  pending: Migration[];
  current: string | null;
  head: string | null;
}

/** Run inside the first migration's transaction, so a failed first upgrade leaves no trace at all. */
const CREATE_TABLE = `create table if not exists ${MIGRATIONS_TABLE} (id varchar(14) primary key, checksum char(64) not null, applied_at timestamptz not null default now(), execution_ms integer not null)`;

export const METADATA_TABLE = `${MIGRATIONS_TABLE}_metadata`;
/** Like Rails' ar_internal_metadata: the environment the database was last migrated under. */
const CREATE_METADATA = `create table if not exists ${METADATA_TABLE} (key text primary key, value text not null, updated_at timestamptz not null default now())`;

/** The bookkeeping tables, created on first use (inside the first migration's transaction). */
const BOOKKEEPING_TABLES = `${CREATE_TABLE}; ${CREATE_METADATA}`;
const RECORD_ENVIRONMENT = `insert into ${METADATA_TABLE} (key, value) values ('environment', $1) on conflict (key) do update set value = excluded.value, updated_at = now()`;
const INSERT_APPLIED = `insert into ${MIGRATIONS_TABLE} (id, checksum, execution_ms) values ($1, $2, $3)`;
const DELETE_APPLIED = `delete from ${MIGRATIONS_TABLE} where id = $1`;

/** Creates the bookkeeping tables when missing and records the environment migrating now. */
async function prepareBookkeeping(session: SqlSession, environment: string): Promise<void> {
  await session.query(BOOKKEEPING_TABLES);
  await session.query(RECORD_ENVIRONMENT, [environment]);
}

async function recordApplied(session: SqlSession, migration: Migration, ms: number): Promise<void> {
  await session.query(INSERT_APPLIED, [migration.id, migration.checksum, ms]);
}

async function recordReverted(session: SqlSession, migration: Migration): Promise<void> {
  await session.query(DELETE_APPLIED, [migration.id]);
}

const defaultEnvironment = () => process.env.NODE_ENV || 'development';

/** The environment the database was last migrated under, or undefined when never recorded. */
export function recordedEnvironment(handle: DatabaseHandle): Promise<string | undefined> {
  return withSession(handle, async (session) => {
    if (!(await tableExists(session, METADATA_TABLE))) return undefined;
    const [row] = await session.query<{ value: string }>(
      `select value from ${METADATA_TABLE} where key = 'environment'`,
    );
    return row?.value;
  });
}

async function tableExists(session: SqlSession, table: string): Promise<boolean> {
  const rows = await session.query<{ exists: boolean }>('select to_regclass($1) is not null as "exists"', [
    table,
  ]);
  return rows[0]?.exists === true;
}

export const SELECT_APPLIED = `select id, checksum, applied_at::text as applied_at, execution_ms from ${MIGRATIONS_TABLE} order by id`;

/** Driver rows as AppliedRow (execution_ms may arrive as a string). */
export const toAppliedRows = (rows: AppliedRow[]): AppliedRow[] =>
  rows.map((row) => ({ ...row, execution_ms: Number(row.execution_ms) }));

async function readApplied(session: SqlSession): Promise<AppliedRow[]> {
  if (!(await tableExists(session, MIGRATIONS_TABLE))) return [];
  return toAppliedRows(await session.query<AppliedRow>(SELECT_APPLIED));
}

/** Reads the migration table and folder without changing anything. */
export function readState(handle: DatabaseHandle, dir: string): Promise<MigrationState> {
  return withSession(handle, async (session) => stateOf(readMigrations(dir), await readApplied(session)));
}

export function stateOf(migrations: Migration[], applied: AppliedRow[]): MigrationState {
  const appliedIds = new Set(applied.map((row) => row.id));
  return {
    migrations,
    applied,
    pending: migrations.filter((m) => !appliedIds.has(m.id)),
    current: applied.at(-1)?.id ?? null,
    head: migrations.at(-1)?.id ?? null,
  };
}

/**
 * Calls on one handle run one after another: on PGlite every session is the same connection, and an
 * advisory lock does not exclude the session that holds it.
 */
const queues = new WeakMap<DatabaseHandle, Promise<unknown>>();

/** Runs `work` holding the migrations lock on one dedicated session, with no statement timeout. */
function withLock<T>(
  handle: DatabaseHandle,
  log: ((line: string) => void) | undefined,
  work: (session: SqlSession) => Promise<T>,
): Promise<T> {
  const run = (queues.get(handle) ?? Promise.resolve()).then(() => lockedSession(handle, log, work));
  queues.set(
    handle,
    run.catch(() => {}),
  );
  return run;
}

const POOLED_LOCK =
  'Nothing was run: DATABASE_URL goes through a transaction pooler (?pgbouncer=true or DB_PREPARE=false), which ' +
  'hands each transaction a different server connection, so the migrations advisory lock could be taken on one ' +
  'and never released, and two deploys could migrate at once. Set DIRECT_DATABASE_URL to a connection straight ' +
  "to the server (the provider's direct or session URL, not the pooler's): migrations and db commands use it.";

function lockedSession<T>(
  handle: DatabaseHandle,
  log: ((line: string) => void) | undefined,
  work: (session: SqlSession) => Promise<T>,
): Promise<T> {
  if (handle.pooledSessions) return Promise.reject(new MigrationError(POOLED_LOCK));
  return withSession(handle, async (session) => {
    try {
      // The app's DB_STATEMENT_TIMEOUT_MS must not cut a long migration, nor a deploy waiting for the lock.
      await session.query('set statement_timeout = 0');
      const [row] = await session.query<{ locked: boolean }>(
        `select pg_try_advisory_lock(${LOCK_KEY}) as locked`,
      );
      if (!row?.locked) {
        log?.('Waiting for another migration run to finish (advisory lock held)...');
        await session.query(`select pg_advisory_lock(${LOCK_KEY})`);
      }
      try {
        return await work(session);
      } finally {
        await session.query(`select pg_advisory_unlock(${LOCK_KEY})`).catch(() => {});
      }
    } finally {
      // The connection goes back to the pool: it keeps the app's timeout there.
      await session.query('reset statement_timeout').catch(() => {});
    }
  });
}

/** Upgrading unmerged branches would apply both in id order and leave the schema of neither. */
function singleHead(state: MigrationState): Lineage {
  const lineage = readLineage(state.migrations);
  const problem = headsProblem(lineage);
  if (problem) throw new MigrationError(`Nothing was applied: ${problem}.`);
  return lineage;
}

/** Applied migrations the folder does not have (the database is ahead of this code). */
export function unknownApplied(state: MigrationState): AppliedRow[] {
  const known = new Set(state.migrations.map((m) => m.id));
  return state.applied.filter((row) => !known.has(row.id));
}

function assertKnown(state: MigrationState, dir: string): void {
  const missing = unknownApplied(state);
  if (missing.length > 0) {
    throw new MigrationError(
      `The database has migration(s) ${missing.map((r) => r.id).join(', ')} applied that are not in ${dir}. ` +
        'Restore the folder(s) from version control, or `stamp` the database to a known revision.',
    );
  }
}

export function editedMigrations(state: MigrationState): Migration[] {
  const byId = new Map(state.migrations.map((m) => [m.id, m]));
  return state.applied.flatMap((row) => {
    const migration = byId.get(row.id);
    return migration && migration.checksum !== row.checksum ? [migration] : [];
  });
}

/** A target names a migration by its id or its folder name. */
function findMigration(state: MigrationState, target: string): Migration | undefined {
  return state.migrations.find((m) => m.id === target || m.name === target);
}

function resolveUpTarget(state: MigrationState, target: string): Migration[] {
  if (target === 'head') return state.pending;
  const migration = findMigration(state, target);
  if (!migration) {
    throw new MigrationError(`Unknown target "${target}": use head or a migration id (see \`history\`).`);
  }
  return state.pending.filter((m) => m.id <= migration.id);
}

function resolveDownTarget(state: MigrationState, target: string): Migration[] {
  const appliedNewestFirst = [...state.applied]
    .reverse()
    .map((row) => state.migrations.find((m) => m.id === row.id)!);
  if (target === 'base') return appliedNewestFirst;
  const relative = /^-(\d+)$/.exec(target);
  if (relative) return appliedNewestFirst.slice(0, Number(relative[1]));
  const migration = findMigration(state, target);
  if (!migration) {
    throw new MigrationError(
      `Unknown target "${target}": use -1, -N, base or a migration id (see \`history\`).`,
    );
  }
  // Downgrading to an id keeps that migration applied, as in Alembic.
  return appliedNewestFirst.filter((m) => m.id > migration.id);
}

export function upgrade(
  handle: DatabaseHandle,
  dir: string,
  target = 'head',
  options: RunOptions = {},
): Promise<RunResult> {
  return run(handle, dir, 'up', target, options);
}

export function downgrade(
  handle: DatabaseHandle,
  dir: string,
  target: string,
  options: RunOptions = {},
): Promise<RunResult> {
  return run(handle, dir, 'down', target, options);
}

/** Upgrade and downgrade: read the state under the lock, check the plan whole, then run it step by step. */
async function run(
  handle: DatabaseHandle,
  dir: string,
  direction: Direction,
  target: string,
  options: RunOptions,
): Promise<RunResult> {
  if (options.sql) return planSql(handle, dir, direction, target);
  const environment = options.environment ?? defaultEnvironment();
  const [doing, done] = direction === 'up' ? ['applying', 'applied '] : ['reverting', 'reverted'];
  return withLock(handle, options.log, async (session) => {
    const state = stateOf(readMigrations(dir), await readApplied(session));
    const steps = planSteps(state, dir, direction, target, options);
    const results: StepResult[] = [];
    for (const migration of steps) {
      options.log?.(`${doing} ${migration.name} ...`);
      const ms = await runScript(session, migration, direction, environment);
      results.push({ id: migration.id, name: migration.name, ms });
      options.log?.(`${done} ${migration.name}  (${ms} ms)`);
    }
    return { direction, steps: results, from: state.current, to: revisionAfter(state, direction, steps) };
  });
}

/** The migrations to run, in order, once every rule that would stop the run half-way has been checked. */
function planSteps(
  state: MigrationState,
  dir: string,
  direction: Direction,
  target: string,
  options: Pick<RunOptions, 'allowOutOfOrder'>,
): Migration[] {
  assertKnown(state, dir);
  if (direction === 'down') {
    const steps = resolveDownTarget(state, target);
    assertReversible(steps);
    return steps;
  }
  const edited = editedMigrations(state);
  if (edited.length > 0) {
    throw new MigrationError(
      `Applied migration(s) changed since they ran: ${edited.map((m) => m.up.file).join(', ')}. ` +
        'Revert the edit and put the change in a new migration (`revision`).',
    );
  }
  const lineage = singleHead(state);
  const steps = resolveUpTarget(state, target);
  if (!options.allowOutOfOrder && state.current) {
    const applied = state.migrations.filter((m) => !state.pending.includes(m));
    const older = steps.filter((m) => m.id < state.current! && !fromMergedBranch(lineage, m, applied));
    if (older.length > 0) {
      throw new MigrationError(
        `Pending migration ${older[0]!.dir} is older than the applied head ${state.current}. ` +
          'Give it a newer timestamp, or pass --allow-out-of-order if applying it late is safe.',
      );
    }
  }
  return steps;
}

function revisionAfter(state: MigrationState, direction: Direction, steps: Migration[]): string | null {
  if (direction === 'up') return steps.at(-1)?.id ?? state.current;
  return state.applied.filter((row) => !steps.some((m) => m.id === row.id)).at(-1)?.id ?? null;
}

/** Checks the whole path before touching anything, so a downgrade never stops half-way on a known wall. */
function assertReversible(steps: Migration[]): void {
  for (const migration of steps) {
    if (!migration.down) {
      throw new MigrationError(
        `${migration.dir} has no down.sql, so it cannot be reverted. Write one, or add down.sql starting with ` +
          '"-- irreversible: <why>". Nothing was reverted.',
      );
    }
    if (migration.irreversible !== undefined) {
      throw new MigrationError(
        `${migration.down.file} is irreversible (${migration.irreversible}); downgrade stops before it. ` +
          'Nothing was reverted.',
      );
    }
  }
}

/**
 * Runs one script. In a transaction (the default) the bookkeeping row commits with the schema change or not
 * at all; a no-transaction script runs statement by statement and is recorded after its last statement.
 */
async function runScript(
  session: SqlSession,
  migration: Migration,
  direction: Direction,
  environment: string,
): Promise<number> {
  const script = direction === 'up' ? migration.up : migration.down!;
  const transactional = !script.noTransaction;
  const execute = async () => {
    const started = performance.now();
    for (const [index, statement] of script.statements.entries()) {
      try {
        await session.query(statement);
      } catch (error) {
        throw new MigrationError(
          `${script.file}: statement ${index + 1} of ${script.statements.length} failed: ` +
            `${redactSecrets(describePgError(error))}\n  ${firstLine(statement)}\n` +
            (transactional
              ? `Rolled back: the database is still ${direction === 'up' ? `at the revision before ${migration.id}` : `at ${migration.id}`}.`
              : `This migration runs without a transaction: statements before ${index + 1} stay applied; ` +
                'make them idempotent (IF NOT EXISTS) and rerun.'),
        );
      }
    }
    const ms = Math.round(performance.now() - started);
    await prepareBookkeeping(session, environment);
    if (direction === 'up') await recordApplied(session, migration, ms);
    else await recordReverted(session, migration);
    return ms;
  };
  return transactional ? inTransaction(session, execute) : execute();
}

const DEPENDENT_OBJECTS = '2BP01';

/** PostgreSQL's message with its DETAIL and HINT, which often say exactly what to write. */
function describePgError(error: unknown): string {
  const { message, detail, hint, code } = error as {
    message: string;
    detail?: string;
    hint?: string;
    code?: string;
  };
  const lines = [message];
  if (detail) lines.push(`DETAIL: ${detail}`);
  if (hint && code !== DEPENDENT_OBJECTS) lines.push(`HINT: ${hint}`);
  if (code === DEPENDENT_OBJECTS) {
    lines.push(
      'Groundwork never drops with CASCADE: drop or change the dependent objects named above in this migration ' +
        '(before this statement, with their re-creation in down.sql), or drop them in an earlier migration.',
    );
  }
  return lines.join('\n');
}

function firstLine(statement: string): string {
  const line = statement.split('\n').find((l) => l.trim() && !l.trim().startsWith('--')) ?? statement;
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/** Offline mode: the SQL a DBA could run by hand, with the bookkeeping, read-only on the database. */
async function planSql(
  handle: DatabaseHandle,
  dir: string,
  direction: Direction,
  target: string,
): Promise<RunResult> {
  const state = await readState(handle, dir);
  const steps = planSteps(state, dir, direction, target, { allowOutOfOrder: true });
  const parts: string[] = [];
  if (direction === 'up' && !state.applied.length) {
    parts.push(`${CREATE_TABLE};`);
  }
  for (const migration of steps) {
    const script = direction === 'up' ? migration.up : migration.down!;
    const body = script.statements.map((s) => (s.trimEnd().endsWith(';') ? s : `${s};`)).join('\n\n');
    // Printed for a person to run, so the values are written out as literals.
    const record =
      direction === 'up'
        ? `insert into ${MIGRATIONS_TABLE} (id, checksum, execution_ms) values ('${migration.id}', '${migration.checksum}', 0);`
        : `delete from ${MIGRATIONS_TABLE} where id = '${migration.id}';`;
    const wrapped = script.noTransaction ? [body, record] : ['begin;', body, record, 'commit;'];
    parts.push(`-- ${direction} ${migration.name}\n${wrapped.join('\n')}`);
  }
  return {
    direction,
    steps: steps.map((m) => ({ id: m.id, name: m.name, ms: 0 })),
    from: state.current,
    to: revisionAfter(state, direction, steps),
    sql: `${parts.join('\n\n')}\n`,
  };
}

/** Records the database as being at `target` without running any SQL (adopting an existing database). */
export function stamp(
  handle: DatabaseHandle,
  dir: string,
  target: string,
  options: RunOptions = {},
): Promise<StampResult> {
  return withLock(handle, options.log, async (session) => {
    const state = stateOf(readMigrations(dir), await readApplied(session));
    let keep: Migration[];
    if (target === 'base') keep = [];
    else if (target === 'head') keep = state.migrations;
    else {
      const migration = findMigration(state, target);
      const index = migration ? state.migrations.indexOf(migration) : -1;
      if (index < 0)
        throw new MigrationError(`Unknown target "${target}": use head, base or a migration id.`);
      keep = state.migrations.slice(0, index + 1);
    }
    await inTransaction(session, async () => {
      await prepareBookkeeping(session, options.environment ?? defaultEnvironment());
      await session.query(`delete from ${MIGRATIONS_TABLE}`);
      for (const migration of keep) await recordApplied(session, migration, 0);
    });
    options.log?.(`stamped at ${keep.at(-1)?.name ?? 'base'}`);
    return {
      steps: keep.map((m) => ({ id: m.id, name: m.name })),
      from: state.current,
      to: keep.at(-1)?.id ?? null,
    };
  });
}
