import { MIGRATION_DEFAULTS, type MigrationSettings } from '../config.ts';
import type { DatabaseHandle, SqlSession } from '../database/open.ts';
import { inTransaction, withSession } from '../database/sessions.ts';
import { redactSecrets } from '../redact.ts';
import {
  bookkeeping,
  execute,
  LOCK_KEY,
  MIGRATIONS_TABLE,
  readApplied,
  recordApplied,
  recordReverted,
  type Sql,
} from './bookkeeping.ts';
import { MigrationError, MigrationLockTimeoutError } from './errors.ts';
import { type Migration, type MigrationScript, readMigrations } from './folder.ts';
import {
  type ConcurrentIndexBuild,
  dropIndexStatement,
  indexOnTable,
  invalidIndexes,
  invalidIndexesLeftBy,
  parseConcurrentIndexBuild,
} from './indexes.ts';
import {
  BlockerWatch,
  type BlockingSession,
  describeBlockers,
  firstBlocker,
  LockRetriesExhausted,
  type LockRetry,
  seconds,
  timeoutStatements,
  withLockRetries,
} from './locks.ts';
import { offlineScript } from './offline.ts';
import {
  type Direction,
  editedScripts,
  findMigration,
  legacyDowns,
  type MigrationState,
  planSteps,
  readState,
  revisionAfter,
  stateOf,
} from './plan.ts';

export { MigrationError, MigrationLockTimeoutError } from './errors.ts';

export interface StepResult {
  id: string;
  name: string;
  /** From the first attempt to the commit, lock retries included. */
  ms: number;
  /** Attempts (of the migration, or of one of its statements) that met the lock timeout and were retried. */
  retries: number;
}

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

/** The settings' values for this run; those left out are MIGRATION_DEFAULTS (config.ts's defaults). */
export interface RunOptions extends Partial<MigrationSettings> {
  /** One line per migration and notices (waiting for the lock, a lock retry). */
  log?: (line: string) => void;
  /** Print the SQL instead of running it. */
  sql?: boolean;
  allowOutOfOrder?: boolean;
  /** Recorded as the environment the database was last migrated under; default NODE_ENV or development. */
  environment?: string;
}

const defaultEnvironment = () => process.env.NODE_ENV || 'development';

function settingsOf(options: RunOptions): MigrationSettings {
  return {
    lockTimeoutMs: options.lockTimeoutMs ?? MIGRATION_DEFAULTS.lockTimeoutMs,
    lockRetries: options.lockRetries ?? MIGRATION_DEFAULTS.lockRetries,
    lockRetryDelayMs: options.lockRetryDelayMs ?? MIGRATION_DEFAULTS.lockRetryDelayMs,
    statementTimeoutMs: options.statementTimeoutMs ?? MIGRATION_DEFAULTS.statementTimeoutMs,
  };
}

/** The migration session of one locked run, with what it runs under. */
interface LockedRun {
  session: SqlSession;
  settings: MigrationSettings;
  /** Sees the sessions a waiting statement is blocked by. */
  watch: BlockerWatch;
  log: ((line: string) => void) | undefined;
}

/**
 * Calls on one handle run one after another: on PGlite every session is the same connection, and an
 * advisory lock does not exclude the session that holds it.
 */
const queues = new WeakMap<DatabaseHandle, Promise<unknown>>();

/** Runs `work` holding the migrations lock on one dedicated session, under the migration timeouts. */
function withLock<T>(
  handle: DatabaseHandle,
  settings: MigrationSettings,
  log: ((line: string) => void) | undefined,
  work: (run: LockedRun) => Promise<T>,
): Promise<T> {
  const run = (queues.get(handle) ?? Promise.resolve()).then(() =>
    lockedSession(handle, settings, log, work),
  );
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
  settings: MigrationSettings,
  log: ((line: string) => void) | undefined,
  work: (run: LockedRun) => Promise<T>,
): Promise<T> {
  if (handle.pooledSessions) return Promise.reject(new MigrationError(POOLED_LOCK));
  return withSession(handle, async (session) => {
    try {
      // Neither the app's DB_STATEMENT_TIMEOUT_MS nor a lock timeout cuts a deploy waiting for another's lock.
      await session.query('set statement_timeout = 0');
      const [row] = await session.query<{ locked: boolean }>(
        `select pg_try_advisory_lock(${LOCK_KEY}) as locked`,
      );
      if (!row?.locked) {
        log?.('Waiting for another migration run to finish (advisory lock held)...');
        await session.query(`select pg_advisory_lock(${LOCK_KEY})`);
      }
      let watch: BlockerWatch | undefined;
      try {
        for (const statement of timeoutStatements(settings)) await session.query(statement);
        watch = await BlockerWatch.start(handle, session, settings.lockTimeoutMs);
        return await work({ session, settings, watch, log });
      } finally {
        await watch?.close();
        await session.query(`select pg_advisory_unlock(${LOCK_KEY})`).catch(() => {});
      }
    } finally {
      // The connection goes back to the pool: it keeps the app's timeouts there.
      await session.query('reset statement_timeout').catch(() => {});
      await session.query('reset lock_timeout').catch(() => {});
    }
  });
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
  const settings = settingsOf(options);
  const environment = options.environment ?? defaultEnvironment();
  if (options.sql) return planSql(handle, dir, direction, target, settings, environment);
  const [doing, done] = direction === 'up' ? ['applying', 'applied '] : ['reverting', 'reverted'];
  return withLock(handle, settings, options.log, async (locked) => {
    const state = stateOf(readMigrations(dir), await readApplied(locked.session));
    const steps = planSteps(state, dir, direction, target, options);
    if (direction === 'down') warnEditedDowns(state, steps, options.log);
    const applied = new Set(state.applied.map((row) => row.id));
    // Legacy rows get their down.sql checksum with the first step's bookkeeping.
    let downs = legacyDowns(state);
    const results: StepResult[] = [];
    for (const migration of steps) {
      options.log?.(`${doing} ${migration.name} ...`);
      const at = [...applied].sort().at(-1) ?? null;
      const step = { migration, direction, at };
      const { ms, retries } = await runScript(locked, step, bookkeeping(environment, downs));
      downs = new Map();
      if (direction === 'up') applied.add(migration.id);
      else applied.delete(migration.id);
      results.push({ id: migration.id, name: migration.name, ms, retries });
      const retried = retries > 0 ? `, ${retries} lock ${retries === 1 ? 'retry' : 'retries'}` : '';
      options.log?.(`${done} ${migration.name}  (${ms} ms${retried})`);
    }
    return { direction, steps: results, from: state.current, to: revisionAfter(state, direction, steps) };
  });
}

/** A downgrade runs down.sql as it is now; one edited since its migration ran is said out loud. */
function warnEditedDowns(state: MigrationState, steps: Migration[], log: RunOptions['log']): void {
  for (const edit of editedScripts(state)) {
    if (edit.direction === 'down' && steps.includes(edit.migration)) {
      log?.(`warning: ${edit.file} changed since ${edit.migration.id} was applied; it runs as it is now`);
    }
  }
}

/** One migration to run, and the revision the database is at before it. */
interface Step {
  migration: Migration;
  direction: Direction;
  at: string | null;
}

/**
 * Runs one script. In a transaction (the default) the bookkeeping commits with the schema change or not at
 * all, and a lock timeout reruns the whole transaction; a no-transaction script runs statement by
 * statement, a lock timeout reruns the statement, and it is recorded after its last statement.
 */
async function runScript(
  locked: LockedRun,
  step: Step,
  books: Sql[],
): Promise<{ ms: number; retries: number }> {
  const { migration, direction } = step;
  const script = direction === 'up' ? migration.up : migration.down!;
  const record = (ms: number) => [
    ...books,
    direction === 'up' ? recordApplied(migration, ms) : recordReverted(migration),
  ];
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const onRetry = (retry: LockRetry) => logRetry(locked, script, retry);
  try {
    if (!script.noTransaction) {
      const { value: ms, retries } = await withLockRetries(
        locked.settings,
        () =>
          inTransaction(locked.session, async () => {
            for (const [index, statement] of script.statements.entries()) {
              await runStatement(locked, index, statement);
            }
            const ms = elapsed();
            await execute(locked.session, record(ms));
            return ms;
          }),
        onRetry,
      );
      return { ms, retries };
    }
    let retries = 0;
    for (const [index, statement] of script.statements.entries()) {
      retries += await runStatementAlone(locked, index, statement, onRetry);
    }
    const ms = elapsed();
    const recorded = await withLockRetries(
      locked.settings,
      () => inTransaction(locked.session, () => execute(locked.session, record(ms))),
      onRetry,
    );
    return { ms, retries: retries + recorded.retries };
  } catch (error) {
    throw failure(locked, step, script, error);
  }
}

/** A statement of a script that failed, with the sessions seen blocking it. */
class StatementFailure extends Error {
  readonly index: number;
  readonly statement: string;
  readonly blockers: BlockingSession[] | string | undefined;

  constructor(index: number, statement: string, cause: unknown, blockers?: BlockingSession[] | string) {
    super((cause as Error).message, { cause });
    this.index = index;
    this.statement = statement;
    this.blockers = blockers;
  }

  /** The cause's SQLSTATE, so that a lock timeout is seen through the wrapper. */
  get code(): unknown {
    return (this.cause as { code?: unknown }).code;
  }
}

/** A failed concurrent build, and what became of the INVALID index it left. */
class IndexBuildFailure extends Error {
  readonly failure: unknown;
  readonly note: string | undefined;

  constructor(failure: unknown, note: string | undefined) {
    super((failure as Error).message);
    this.failure = failure;
    this.note = note;
  }
}

async function runStatement(locked: LockedRun, index: number, statement: string): Promise<void> {
  try {
    await locked.watch.during(() => locked.session.query(statement));
  } catch (cause) {
    throw new StatementFailure(index, statement, cause, locked.watch.report());
  }
}

/**
 * One statement of a no-transaction script, retried alone on a lock timeout. A concurrent index build is
 * guarded: an INVALID index of its name left by an earlier failed build is dropped first (IF NOT EXISTS
 * would otherwise skip the build and "succeed"), and a build that fails or leaves its index INVALID has
 * that index dropped and is reported, so the migration is never recorded with an index that does not work.
 */
async function runStatementAlone(
  locked: LockedRun,
  index: number,
  statement: string,
  onRetry: (retry: LockRetry) => void,
): Promise<number> {
  const build = parseConcurrentIndexBuild(statement);
  const { session } = locked;
  /** Failures of the lookups around the statement are reported as the statement's. */
  const asStatement = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw error instanceof StatementFailure ? error : new StatementFailure(index, statement, error);
    }
  };
  // An unnamed build's index is told apart from the table's INVALID indexes that were there before it.
  const before = new Set(
    build && build.name === undefined
      ? (await asStatement(() => invalidIndexes(session, build.table))).map((i) => i.name)
      : [],
  );
  const attempt = () =>
    asStatement(async () => {
      if (build?.name !== undefined) {
        for (const leftover of await invalidIndexesLeftBy(session, build)) {
          locked.log?.(
            `dropping INVALID index ${leftover.name}, left by an earlier failed build, to build it again`,
          );
          await runStatement(locked, index, dropIndexStatement(leftover));
        }
      }
      await runStatement(locked, index, statement);
      if (build) await assertBuilt(locked, index, statement, build, before);
    });
  try {
    return (await withLockRetries(locked.settings, attempt, onRetry)).retries;
  } catch (error) {
    if (!build) throw error;
    throw new IndexBuildFailure(error, await dropLeftBy(locked, build, before));
  }
}

/** A build that "succeeded" must have left a valid index of its name on its table. */
async function assertBuilt(
  locked: LockedRun,
  index: number,
  statement: string,
  build: ConcurrentIndexBuild,
  before: ReadonlySet<string>,
): Promise<void> {
  const left = await invalidIndexesLeftBy(locked.session, build, before);
  if (left.length > 0) {
    const names = left.map((i) => i.name).join(', ');
    throw new StatementFailure(index, statement, new Error(`the build ended with index ${names} INVALID`));
  }
  if (build.ifNotExists && !(await indexOnTable(locked.session, build))) {
    const reason = `IF NOT EXISTS skipped the build: an index named "${build.name}" already exists on another table`;
    throw new StatementFailure(index, statement, new Error(reason));
  }
}

/** Drops the INVALID index a failed build left; says what was done, for the error message. */
async function dropLeftBy(
  locked: LockedRun,
  build: ConcurrentIndexBuild,
  before: ReadonlySet<string>,
): Promise<string | undefined> {
  try {
    const notes: string[] = [];
    for (const index of await invalidIndexesLeftBy(locked.session, build, before)) {
      const drop = dropIndexStatement(index);
      const what = `The failed build left index ${index.name} INVALID (never used by queries, yet updated on every write)`;
      try {
        await locked.session.query(drop);
        notes.push(`${what}; it was dropped.`);
      } catch (error) {
        notes.push(
          `${what}; dropping it failed (${redactSecrets((error as Error).message)}): run ${drop}, or rerun, which drops it before building again.`,
        );
      }
    }
    return notes.length ? notes.join('\n') : undefined;
  } catch (error) {
    return `Could not look for an INVALID index left by the failed build (${redactSecrets((error as Error).message)}): run check.`;
  }
}

function logRetry(locked: LockedRun, script: MigrationScript, { error, retry, delayMs }: LockRetry): void {
  const where = error instanceof StatementFailure ? `statement ${error.index + 1}` : 'its bookkeeping';
  const blockers =
    error instanceof StatementFailure && error.blockers ? firstBlocker(error.blockers) : 'an unseen session';
  locked.log?.(
    `lock timeout (${locked.settings.lockTimeoutMs} ms) on ${script.file} ${where}, held by ${blockers}; ` +
      `retry ${retry} of ${locked.settings.lockRetries} in ${seconds(delayMs)}`,
  );
}

/** The error a failed step throws: where, why, the sessions in the way, and the revision the database is at. */
function failure(locked: LockedRun, step: Step, script: MigrationScript, thrown: unknown): MigrationError {
  let error = thrown;
  let note: string | undefined;
  if (error instanceof IndexBuildFailure) {
    note = error.note;
    error = error.failure;
  }
  const exhausted = error instanceof LockRetriesExhausted ? error : undefined;
  if (exhausted) error = exhausted.last;
  const statement = error instanceof StatementFailure ? error : undefined;
  const cause = statement ? statement.cause : error;
  const where = statement
    ? `${script.file}: statement ${statement.index + 1} of ${script.statements.length}`
    : `${script.file}: recording it in ${MIGRATIONS_TABLE}`;
  const shown = statement ? `\n  ${firstLine(statement.statement)}` : '';
  const tail = [stateAfterFailure(step, script, statement), ...(note ? [note] : [])].join('\n');
  if (!exhausted) {
    return new MigrationError(`${where} failed: ${redactSecrets(describePgError(cause))}${shown}\n${tail}`);
  }
  const { settings } = locked;
  const blockers = statement?.blockers ?? locked.watch.report();
  return new MigrationLockTimeoutError(
    `${where} could not take its lock within lock_timeout ${settings.lockTimeoutMs} ms in ${exhausted.attempts} ` +
      `attempts over ${seconds(exhausted.elapsedMs)} (1 + MIGRATION_LOCK_RETRIES=${settings.lockRetries}): ` +
      `${redactSecrets(describePgError(cause))}${shown}\n` +
      `Blocked by:\n${describeBlockers(blockers)}\n${tail}\n` +
      `End the blocking transaction (${terminate(blockers)} ends its session) or wait for it, then rerun; ` +
      '--lock-timeout (MIGRATION_LOCK_TIMEOUT_MS) and MIGRATION_LOCK_RETRIES set how long a migration tries.',
    step.migration.name,
    exhausted.attempts,
    Array.isArray(blockers) ? blockers : [],
  );
}

const terminate = (blockers: BlockingSession[] | string) =>
  Array.isArray(blockers) && blockers.length > 0
    ? blockers.map((b) => `SELECT pg_terminate_backend(${b.pid})`).join('; ')
    : 'SELECT pg_terminate_backend(<pid>)';

function stateAfterFailure(
  step: Step,
  script: MigrationScript,
  statement: StatementFailure | undefined,
): string {
  const { migration, direction, at } = step;
  const revision =
    direction === 'up' ? `the revision before ${migration.id} (${at ?? 'base'})` : `${migration.id}`;
  if (!script.noTransaction) return `Rolled back: the database is still at ${revision}.`;
  const recorded = `the migration is not recorded, so the database is still at ${revision}`;
  if (statement?.index === 0) return `This migration runs without a transaction; ${recorded}.`;
  const ran = !statement
    ? 'every statement ran'
    : statement.index === 1
      ? 'statement 1 stays applied'
      : `statements 1 to ${statement.index} stay applied`;
  return (
    `This migration runs without a transaction: ${ran}, and ${recorded}. ` +
    'Make its statements idempotent (IF NOT EXISTS) and rerun.'
  );
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

/** Offline mode: the script a DBA runs with psql, read-only on the database. */
async function planSql(
  handle: DatabaseHandle,
  dir: string,
  direction: Direction,
  target: string,
  settings: MigrationSettings,
  environment: string,
): Promise<RunResult> {
  const state = await readState(handle, dir);
  const steps = planSteps(state, dir, direction, target, { allowOutOfOrder: true });
  const from = state.current;
  const to = revisionAfter(state, direction, steps);
  const sql = offlineScript({
    direction,
    steps,
    from,
    to,
    settings,
    environment,
    legacyDowns: legacyDowns(state),
  });
  return {
    direction,
    steps: steps.map((m) => ({ id: m.id, name: m.name, ms: 0, retries: 0 })),
    from,
    to,
    sql,
  };
}

/** Records the database as being at `target` without running any SQL (adopting an existing database). */
export function stamp(
  handle: DatabaseHandle,
  dir: string,
  target: string,
  options: RunOptions = {},
): Promise<StampResult> {
  return withLock(handle, settingsOf(options), options.log, async ({ session }) => {
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
      await execute(session, bookkeeping(options.environment ?? defaultEnvironment()));
      await session.query(`delete from ${MIGRATIONS_TABLE}`);
      await execute(
        session,
        keep.map((migration) => recordApplied(migration, 0)),
      );
    });
    options.log?.(`stamped at ${keep.at(-1)?.name ?? 'base'}`);
    return {
      steps: keep.map((m) => ({ id: m.id, name: m.name })),
      from: state.current,
      to: keep.at(-1)?.id ?? null,
    };
  });
}
