import { parseRename, RenameError } from '../../migrations/diff.ts';
import { ExpandContractError } from '../../migrations/expand-contract.ts';
import type { LintRuleId } from '../../migrations/lint-rules.ts';
import { createRevision, mayBeRename, parseAllow, RevisionRefusedError } from '../../migrations/revision.ts';
import { appCommand } from '../database-command.ts';
import { colours, UsageError } from '../output.ts';

export const revisionCommand = appCommand({
  name: 'revision',
  summary:
    'create a migration: --autogenerate from schema.ts, --empty for hand-written SQL, or --merge to join two branches',
  usage:
    'revision -m <message> (--autogenerate|--empty|--merge) [--rename table.old=new|old_table=new_table|enum:type.old=new]... [--allow <rule>=<reason>]... [--expand-contract table.column] [--app <name>] [--json]',
  options: {
    message: {
      type: 'string',
      short: 'm',
      description: "what the migration does: up.sql's first line and the end of its folder name",
    },
    autogenerate: {
      type: 'boolean',
      description: 'write up.sql and down.sql from what changed in schema.ts since the last migration',
    },
    empty: {
      type: 'boolean',
      description: 'empty up.sql and down.sql to write by hand (extensions, triggers, data changes)',
    },
    merge: {
      type: 'boolean',
      description: 'join two heads (branches that each added a migration); runs no SQL',
    },
    rename: {
      type: 'string',
      multiple: true,
      description:
        'old_table=new_table, table.old_column=new_column or enum:type.old_value=new_value: a RENAME, not drop + add; repeatable',
    },
    'expand-contract': {
      type: 'string',
      description:
        'table.column: write its type change as expand (new column + sync trigger), backfill in batches, switch and contract migrations instead of one table rewrite',
    },
    allow: {
      type: 'string',
      multiple: true,
      description:
        'rule=reason: accept what lint refuses (ban-drop-column, changing-column-type, ...), written into the migration as "-- groundwork:allow <rule> <reason>"; repeatable',
    },
  },
  examples: [
    'groundwork db revision -m "add phone to users" --autogenerate',
    'groundwork db revision -m "rename name" --autogenerate --rename users.name=full_name --allow renaming-column="no release reads users.name yet"',
    'groundwork db revision -m "sad is unhappy" --autogenerate --rename enum:mood.sad=unhappy --allow renaming-enum-value="written only by the admin tool, stopped for the deploy"',
    'groundwork db revision -m "bigint ids" --autogenerate --expand-contract orders.customer_id',
    'groundwork db revision -m "enable pg_trgm" --empty       # then write up.sql and down.sql',
    'groundwork db revision -m "merge branches" --merge       # after git brought in a second head',
  ],
  parse({ values }) {
    const { message, rename: renames = [], allow: allows = [] } = values;
    if (!message?.trim()) throw new UsageError('revision needs a message: -m "what it does"');
    if ([values.autogenerate, values.empty, values.merge].filter(Boolean).length !== 1) {
      throw new UsageError(
        'choose one: --autogenerate (diff schema.ts), --empty (hand-written) or --merge (join two heads)',
      );
    }
    if (renames.length && !values.autogenerate) throw new UsageError('--rename goes with --autogenerate');
    if (allows.length && !values.autogenerate) throw new UsageError('--allow goes with --autogenerate');
    if (values['expand-contract'] && !values.autogenerate)
      throw new UsageError('--expand-contract goes with --autogenerate');
    const allow: Partial<Record<LintRuleId, string>> = {};
    for (const spec of allows) {
      try {
        const [rule, reason] = parseAllow(spec);
        allow[rule] = reason;
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    }
    // A spec that does not parse is a usage error before anything is read.
    for (const spec of renames) {
      try {
        parseRename(spec);
      } catch (error) {
        throw error instanceof RenameError ? new UsageError(error.message) : error;
      }
    }
    return { message, renames, allow, expandContract: values['expand-contract'] };
  },
  async run({ app, values, input: { message, renames, allow, expandContract } }, out) {
    // So is one naming a table or column the schemas do not have: nothing is written either way.
    let result: Awaited<ReturnType<typeof createRevision>>;
    try {
      result = await asUsageError(() =>
        createRevision(app.migrationsDir, app.schema, {
          message,
          autogenerate: Boolean(values.autogenerate),
          merge: Boolean(values.merge),
          renames,
          allow,
          expandContract,
        }),
      );
    } catch (error) {
      if (!(error instanceof RevisionRefusedError)) throw error;
      // the findings as data under --json; for a person, the message with every recipe
      if (out.json) out.result({ ok: false, created: false, refused: error.findings, error: error.message });
      else process.stderr.write(`${colours(process.stderr).red('refused:')} ${error.message}\n`);
      return 1;
    }
    if (!result.dir) {
      out.result({ ...result, created: false }, 'No changes in schema: nothing written.');
      return 0;
    }
    for (const change of result.changes) out.line(`  ${change}`);
    for (const loss of result.dataLoss) process.stderr.write(`WARNING: data loss: ${loss}\n`);
    for (const warning of result.warnings) process.stderr.write(`WARNING: ${warning}\n`);
    for (const finding of result.allowed) {
      process.stderr.write(`allowed ${finding.rule}: ${finding.statement} (${finding.allowed})\n`);
    }
    if (mayBeRename(result.changes)) {
      process.stderr.write(
        'WARNING: if a drop+add above is a rename, regenerate with --rename to keep the data.\n',
      );
    }
    out.result(
      { ...result, created: true },
      `Created ${result.dirs.join(', ')}${values.empty ? ' (write up.sql and down.sql by hand)' : values.merge ? '' : ' (review up.sql and down.sql)'}`,
    );
    return 0;
  },
});

/** Runs `work`, turning a RenameError into a usage error (exit 2). */
async function asUsageError<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RenameError || error instanceof ExpandContractError)
      throw new UsageError(error.message);
    throw error;
  }
}
