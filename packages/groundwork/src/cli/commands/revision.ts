import { parseRename, RenameError } from '../../migrations/diff.ts';
import { createRevision, mayBeRename } from '../../migrations/revision.ts';
import { appCommand } from '../database-command.ts';
import { UsageError } from '../output.ts';

export const revisionCommand = appCommand({
  name: 'revision',
  summary:
    'create a migration: --autogenerate from schema.ts, --empty for hand-written SQL, or --merge to join two branches',
  usage:
    'revision -m <message> (--autogenerate|--empty|--merge) [--rename table.old=new|old_table=new_table]... [--app <name>] [--json]',
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
      description: 'old_table=new_table or table.old_column=new_column: a RENAME, not drop + add; repeatable',
    },
  },
  examples: [
    'groundwork db revision -m "add phone to users" --autogenerate',
    'groundwork db revision -m "rename name" --autogenerate --rename users.name=full_name',
    'groundwork db revision -m "enable pg_trgm" --empty       # then write up.sql and down.sql',
    'groundwork db revision -m "merge branches" --merge       # after git brought in a second head',
  ],
  parse({ values }) {
    const { message, rename: renames = [] } = values;
    if (!message?.trim()) throw new UsageError('revision needs a message: -m "what it does"');
    if ([values.autogenerate, values.empty, values.merge].filter(Boolean).length !== 1) {
      throw new UsageError(
        'choose one: --autogenerate (diff schema.ts), --empty (hand-written) or --merge (join two heads)',
      );
    }
    if (renames.length && !values.autogenerate) throw new UsageError('--rename goes with --autogenerate');
    // A spec that does not parse is a usage error before anything is read.
    for (const spec of renames) {
      try {
        parseRename(spec);
      } catch (error) {
        throw error instanceof RenameError ? new UsageError(error.message) : error;
      }
    }
    return { message, renames };
  },
  async run({ app, values, input: { message, renames } }, out) {
    // So is one naming a table or column the schemas do not have: nothing is written either way.
    const result = await asUsageError(() =>
      createRevision(app.migrationsDir, app.schema, {
        message,
        autogenerate: Boolean(values.autogenerate),
        merge: Boolean(values.merge),
        renames,
      }),
    );
    if (!result.dir) {
      out.result({ ...result, created: false }, 'No changes in schema: nothing written.');
      return 0;
    }
    for (const change of result.changes) out.line(`  ${change}`);
    for (const loss of result.dataLoss) process.stderr.write(`WARNING: data loss: ${loss}\n`);
    for (const warning of result.warnings) process.stderr.write(`WARNING: ${warning}\n`);
    if (mayBeRename(result.changes)) {
      process.stderr.write(
        'WARNING: if a drop+add above is a rename, regenerate with --rename to keep the data.\n',
      );
    }
    out.result(
      { ...result, created: true },
      `Created ${result.dir}${values.empty ? ' (write up.sql and down.sql by hand)' : values.merge ? '' : ' (review up.sql and down.sql)'}`,
    );
    return 0;
  },
});

/** Runs `work`, turning a RenameError into a usage error (exit 2). */
async function asUsageError<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RenameError) throw new UsageError(error.message);
    throw error;
  }
}
