import type { DatabaseHandle, SqlSession } from '../database/open.ts';
import { redactSecrets } from '../redact.ts';
import { type Migration, type MigrationScript, readMigrations } from './folder.ts';
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

export interface RunResult {
  direction: 'up' | 'down';
  steps: StepResult[];
  /** Revision before and after: an id or null for base. */
  from: string | null;
  to: string | null;
  /** With `sql: true`: what would run, nothing executed. */
  sql?: string;
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

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The bookkeeping tables (created on first use, so older databases gain the metadata transparently). */
const bookkeepingTables = (environment: string) =>
  `${CREATE_TABLE}; ${CREATE_METADATA}; insert into ${METADATA_TABLE} (key, value) values ('environment', ${quote(environment)}) ` +
  `on conflict (key) do update set value = excluded.value, updated_at = now()`;

const defaultEnvironment = () => process.env.NODE_ENV || 'development';

/** The environment the database was last migrated under, or undefined when never recorded. */
export async function recordedEnvironment(handle: DatabaseHandle<any>): Promise<string | undefined> {
  const session = await handle.session();
  try {
    const [table] = await session.query<{ found: boolean }>(
      `select to_regclass(${quote(METADATA_TABLE)}) is not null as found`,
    );
    if (!table?.found) return undefined;
    const [row] = await session.query<{ value: string }>(
      `select value from ${METADATA_TABLE} where key = 'environment'`,
    );
    return row?.value;
  } finally {
    await session.release();
  }
}

async function tableExists(session: SqlSession): Promise<boolean> {
  const rows = await session.query<{ exists: boolean }>(
    `select to_regclass(${quote(MIGRATIONS_TABLE)}) is not null as "exists"`,
  );
  return rows[0]?.exists === true;
}

export const SELECT_APPLIED = `select id, checksum, applied_at::text as applied_at, execution_ms from ${MIGRATIONS_TABLE} order by id`;

/** Driver rows as AppliedRow (execution_ms may arrive as a string). */
export const toAppliedRows = (rows: AppliedRow[]): AppliedRow[] =>
  rows.map((row) => ({ ...row, execution_ms: Number(row.execution_ms) }));

async function readApplied(session: SqlSession): Promise<AppliedRow[]> {
  if (!(await tableExists(session))) return [];
  return toAppliedRows(await session.query<AppliedRow>(SELECT_APPLIED));
}

/** Reads the migration table and folder without changing anything. */
export async function readState(handle: DatabaseHandle<any>, dir: string): Promise<MigrationState> {
  const session = await handle.session();
  try {
    return stateOf(readMigrations(dir), await readApplied(session));
  } finally {
    await session.release();
  }
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
const queues = new WeakMap<DatabaseHandle<any>, Promise<unknown>>();

/** Runs `work` holding the migrations lock on one dedicated session, with no statement timeout. */
function withLock<T>(
  handle: DatabaseHandle<any>,
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

async function lockedSession<T>(
  handle: DatabaseHandle<any>,
  log: ((line: string) => void) | undefined,
  work: (session: SqlSession) => Promise<T>,
): Promise<T> {
  const session = await handle.session();
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
    await session.release();
  }
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

export async function upgrade(
  handle: DatabaseHandle<any>,
  dir: string,
  target = 'head',
  options: RunOptions = {},
): Promise<RunResult> {
  if (options.sql) return planSql(handle, dir, 'up', target);
  const environment = options.environment ?? defaultEnvironment();
  return withLock(handle, options.log, async (session) => {
    const state = stateOf(readMigrations(dir), await readApplied(session));
    assertKnown(state, dir);
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
    const results: StepResult[] = [];
    for (const migration of steps) {
      const ms = await runScript(session, migration, migration.up, 'up', environment);
      results.push({ id: migration.id, name: migration.name, ms });
      options.log?.(`applied  ${migration.name}  (${ms} ms)`);
    }
    return { direction: 'up', steps: results, from: state.current, to: steps.at(-1)?.id ?? state.current };
  });
}

export async function downgrade(
  handle: DatabaseHandle<any>,
  dir: string,
  target: string,
  options: RunOptions = {},
): Promise<RunResult> {
  if (options.sql) return planSql(handle, dir, 'down', target);
  const environment = options.environment ?? defaultEnvironment();
  return withLock(handle, options.log, async (session) => {
    const state = stateOf(readMigrations(dir), await readApplied(session));
    assertKnown(state, dir);
    const steps = resolveDownTarget(state, target);
    assertReversible(steps);
    const results: StepResult[] = [];
    for (const migration of steps) {
      const ms = await runScript(session, migration, migration.down!, 'down', environment);
      results.push({ id: migration.id, name: migration.name, ms });
      options.log?.(`reverted ${migration.name}  (${ms} ms)`);
    }
    const remaining = state.applied.filter((row) => !steps.some((m) => m.id === row.id));
    return { direction: 'down', steps: results, from: state.current, to: remaining.at(-1)?.id ?? null };
  });
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
  script: MigrationScript,
  direction: 'up' | 'down',
  environment: string,
): Promise<number> {
  const bookkeeping =
    direction === 'up'
      ? `insert into ${MIGRATIONS_TABLE} (id, checksum, execution_ms) values (${quote(migration.id)}, ${quote(migration.checksum)}, $ms$)`
      : `delete from ${MIGRATIONS_TABLE} where id = ${quote(migration.id)}`;
  const started = performance.now();
  const transactional = !script.noTransaction;
  if (transactional) await session.query('begin');
  try {
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
    // one round trip: bookkeeping tables, environment, the row, and the commit
    await session.query(
      `${bookkeepingTables(environment)}; ${bookkeeping.replace('$ms$', String(ms))}${transactional ? '; commit' : ''}`,
    );
    return ms;
  } catch (error) {
    if (transactional) await session.query('rollback').catch(() => {});
    throw error;
  }
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
  handle: DatabaseHandle<any>,
  dir: string,
  direction: 'up' | 'down',
  target: string,
): Promise<RunResult> {
  const state = await readState(handle, dir);
  assertKnown(state, dir);
  if (direction === 'up') singleHead(state);
  const steps = direction === 'up' ? resolveUpTarget(state, target) : resolveDownTarget(state, target);
  if (direction === 'down') assertReversible(steps);
  const parts: string[] = [];
  if (direction === 'up' && !state.applied.length) {
    parts.push(`${CREATE_TABLE};`);
  }
  for (const migration of steps) {
    const script = direction === 'up' ? migration.up : migration.down!;
    const body = script.statements.map((s) => (s.trimEnd().endsWith(';') ? s : `${s};`)).join('\n\n');
    const record =
      direction === 'up'
        ? `insert into ${MIGRATIONS_TABLE} (id, checksum, execution_ms) values (${quote(migration.id)}, ${quote(migration.checksum)}, 0);`
        : `delete from ${MIGRATIONS_TABLE} where id = ${quote(migration.id)};`;
    const wrapped = script.noTransaction ? [body, record] : ['begin;', body, record, 'commit;'];
    parts.push(`-- ${direction} ${migration.name}\n${wrapped.join('\n')}`);
  }
  return {
    direction,
    steps: steps.map((m) => ({ id: m.id, name: m.name, ms: 0 })),
    from: state.current,
    to:
      direction === 'up'
        ? (steps.at(-1)?.id ?? state.current)
        : (state.applied.filter((row) => !steps.some((m) => m.id === row.id)).at(-1)?.id ?? null),
    sql: `${parts.join('\n\n')}\n`,
  };
}

/** Records the database as being at `target` without running any SQL (adopting an existing database). */
export async function stamp(
  handle: DatabaseHandle<any>,
  dir: string,
  target: string,
  options: RunOptions = {},
): Promise<RunResult> {
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
    await session.query('begin');
    try {
      await session.query(bookkeepingTables(options.environment ?? defaultEnvironment()));
      await session.query(`delete from ${MIGRATIONS_TABLE}`);
      for (const migration of keep) {
        await session.query(
          `insert into ${MIGRATIONS_TABLE} (id, checksum, execution_ms) values (${quote(migration.id)}, ${quote(migration.checksum)}, 0)`,
        );
      }
      await session.query('commit');
    } catch (error) {
      await session.query('rollback').catch(() => {});
      throw error;
    }
    options.log?.(`stamped at ${keep.at(-1)?.name ?? 'base'}`);
    return {
      direction: 'up',
      steps: keep.map((m) => ({ id: m.id, name: m.name, ms: 0 })),
      from: state.current,
      to: keep.at(-1)?.id ?? null,
    };
  });
}
