import type { MigrationSettings } from '../config.ts';
import {
  bookkeeping,
  inline,
  LOCK_KEY,
  recordApplied,
  recordReverted,
  type Sql,
  sqlLiteral,
} from './bookkeeping.ts';
import type { Migration } from './folder.ts';
import { type ConcurrentIndexBuild, parseConcurrentIndexBuild } from './indexes.ts';
import { timeoutStatements } from './locks.ts';
import type { Direction } from './plan.ts';

export interface OfflinePlan {
  direction: Direction;
  steps: Migration[];
  from: string | null;
  to: string | null;
  settings: MigrationSettings;
  environment: string;
  /** Legacy rows' down.sql checksums, recorded with the first migration as `upgrade` does. */
  legacyDowns: ReadonlyMap<string, string>;
}

/** A statement terminated with `;` (on a line of its own after a trailing comment, which would swallow it). */
function terminated(statement: string): string {
  const text = statement.trimEnd();
  if (text.endsWith(';')) return text;
  return text.split('\n').at(-1)!.trim().startsWith('--') ? `${text}\n;` : `${text};`;
}

/**
 * After a named concurrent build: stop the script when it left an INVALID index (a failed build, or IF NOT
 * EXISTS meeting one left by an earlier failure), so the migration is not recorded.
 */
function assertBuilt(build: ConcurrentIndexBuild & { name: string }): string {
  const message = `index "${build.name}" is INVALID: its concurrent build failed, or an earlier failed build left it. Drop it (DROP INDEX CONCURRENTLY IF EXISTS ...), fix the cause and run the rest again`;
  return `do $groundwork$ begin
  if exists (select 1 from pg_index x join pg_class i on i.oid = x.indexrelid
              where x.indrelid = to_regclass(${sqlLiteral(build.table)}) and i.relname = ${sqlLiteral(build.name)} and not x.indisvalid) then
    raise exception ${sqlLiteral(message)};
  end if;
end $groundwork$;`;
}

const written = (statements: Sql[]) => statements.map((statement) => `${inline(statement)};`).join('\n');

/**
 * The script `upgrade --sql` / `downgrade --sql` prints: what the runner does, as one psql session. The
 * advisory lock, the timeouts, each migration's transaction with its bookkeeping (the tables, the
 * environment row, the schema_migrations row); only the lock retries are left out, a script cannot sleep
 * and rerun a transaction.
 */
export function offlineScript(plan: OfflinePlan): string {
  const verb = plan.direction === 'up' ? 'upgrade' : 'downgrade';
  if (plan.steps.length === 0)
    return `-- groundwork db ${verb} --sql: nothing to run, the database is at ${plan.from ?? 'base'}\n`;
  const parts = [
    [
      `-- groundwork db ${verb} --sql: ${plan.from ?? 'base'} -> ${plan.to ?? 'base'}, ${plan.steps.length} migration(s).`,
      '-- Run it as one psql session: psql -X -f <this file> "<database URL>". It stops at the first error; each',
      '-- migration commits with its schema_migrations row (a no-transaction one statement by statement), so the',
      '-- database is then at the last migration that committed. A lock timeout is not retried here: wait for the',
      `-- blocking session, then print and run \`${verb} --sql\` again for what is left.`,
      '\\set ON_ERROR_STOP on',
      '-- The advisory lock every groundwork migration command takes: one deploy at a time; its wait is unbounded.',
      'set statement_timeout = 0;',
      `select pg_advisory_lock(${LOCK_KEY});`,
      ...timeoutStatements(plan.settings).map((statement) => `${statement};`),
    ].join('\n'),
  ];
  plan.steps.forEach((migration, index) => {
    const script = plan.direction === 'up' ? migration.up : migration.down!;
    const body = script.statements.flatMap((statement) => {
      const build = script.noTransaction ? parseConcurrentIndexBuild(statement) : undefined;
      return build?.name === undefined
        ? [terminated(statement)]
        : [terminated(statement), assertBuilt({ ...build, name: build.name })];
    });
    const record = plan.direction === 'up' ? recordApplied(migration, 0) : recordReverted(migration);
    // The tables, the environment row and the legacy rows' checksums commit with the first migration.
    const books = written(
      index === 0 ? [...bookkeeping(plan.environment, plan.legacyDowns), record] : [record],
    );
    const wrapped = script.noTransaction
      ? [...body, 'begin;', books, 'commit;']
      : ['begin;', ...body, books, 'commit;'];
    parts.push(`-- ${plan.direction} ${migration.name}\n${wrapped.join('\n')}`);
  });
  parts.push(`select pg_advisory_unlock(${LOCK_KEY});`);
  return `${parts.join('\n\n')}\n`;
}
