import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { headsProblem, readLineage } from '../../migrations/lineage.ts';
import { readState, unknownApplied, unknownAppliedProblem } from '../../migrations/plan.ts';
import { databaseCommand } from '../database-command.ts';
import { historyHtml } from '../history-html.ts';

export const historyCommand = databaseCommand({
  name: 'history',
  summary:
    'every migration: id, message, applied or pending, when, how long; exit 1 when applied ones are missing from the folder',
  usage: 'history [--app <name>] [--json] [--html <file>]',
  options: {
    html: {
      type: 'string',
      description:
        'also write a self-contained HTML timeline of the migrations and their durations to <file>',
    },
  },
  examples: [
    'groundwork db history                      # one line a migration, oldest first',
    'groundwork db history --app learnr --json',
    'groundwork db history --html history.html   # a timeline to open in a browser',
  ],
  async run({ app, handle, values }, out) {
    const state = await readState(handle, app.migrationsDir);
    const heads = headsProblem(readLineage(state.migrations));
    if (heads) process.stderr.write(`WARNING: ${heads}\n`);
    const ahead = unknownAppliedProblem(state, app.migrationsDir);
    if (ahead) process.stderr.write(`WARNING: ${ahead}\n`);
    const applied = new Map(state.applied.map((row) => [row.id, row]));
    const rows = [
      ...state.migrations.map((m) => {
        const row = applied.get(m.id);
        return {
          id: m.id,
          name: m.name as string | null,
          message: m.message,
          status: row ? 'applied' : 'pending',
          appliedAt: row?.applied_at ?? null,
          executionMs: row?.execution_ms ?? null,
          reversible: Boolean(m.down) && m.irreversible === undefined,
        };
      }),
      // applied, but the folder does not have them: listed, not hidden
      ...unknownApplied(state).map((row) => ({
        id: row.id,
        name: null,
        message: `(not in ${app.migrationsDir})`,
        status: 'unknown',
        appliedAt: row.applied_at,
        executionMs: row.execution_ms,
        reversible: false,
      })),
    ].sort((a, b) => a.id.localeCompare(b.id));
    const lines = rows.map(
      (r) =>
        `${r.id}  ${r.status.padEnd(7)}  ${r.appliedAt ? `${r.appliedAt}  ${r.executionMs} ms  ` : ''}${r.message}` +
        `${r.reversible || r.status === 'unknown' ? '' : '  [irreversible]'}${r.id === state.head ? '  (head)' : ''}`,
    );
    if (values.html) {
      const file = resolve(values.html);
      writeFileSync(file, historyHtml(app.name, rows, new Date()));
      lines.push(`wrote ${file}`);
    }
    // Applied migrations the folder lacks exit 1, so the JSON says not ok too.
    out.result(
      { ok: !ahead, migrations: rows },
      lines.length ? lines.join('\n') : `No migrations in ${app.migrationsDir}`,
    );
    return ahead ? 1 : 0;
  },
});
