import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Settings } from '../../config.ts';
import type { DatabaseHandle } from '../../database/open.ts';
import { databaseNameOf } from '../../database/urls.ts';
import { recordedEnvironment } from '../../migrations/bookkeeping.ts';
import type { OptionSpec, OptionValues } from '../command.ts';
import { UsageError } from '../output.ts';

/** Options of every command that can destroy data: reset, downgrade, stamp, restore. */
export const DESTRUCTIVE_OPTIONS = {
  force: {
    type: 'boolean',
    description: 'allow it on a production database (NODE_ENV=production, or last migrated under it)',
  },
  confirm: {
    type: 'string',
    description: "with --force: the database's name (the server database's, or the data folder's)",
  },
} satisfies OptionSpec;

/** The name `--confirm` must repeat: the server database's name, or the embedded data folder's. */
export function databaseName(settings: Pick<Settings, 'databaseUrl' | 'dataDir'>): string {
  return settings.databaseUrl ? databaseNameOf(settings.databaseUrl) : basename(settings.dataDir);
}

/**
 * Refuses `action` on a production database (NODE_ENV=production, or last migrated under production)
 * unless the command has `--force --confirm <database name>`. `recorded` is the database's recorded
 * environment (undefined when never recorded or the database does not exist).
 */
export function assertDestructiveAllowed(
  command: string,
  action: string,
  settings: Pick<Settings, 'databaseUrl' | 'dataDir' | 'nodeEnv'>,
  recorded: string | undefined,
  values: OptionValues<typeof DESTRUCTIVE_OPTIONS>,
): void {
  const reasons = [
    ...(settings.nodeEnv === 'production' ? ['NODE_ENV is production'] : []),
    ...(recorded === 'production' ? ['it was last migrated under production'] : []),
  ];
  if (reasons.length === 0) return;
  const name = databaseName(settings);
  if (values.force && values.confirm === name) return;
  const mismatch =
    values.force && values.confirm !== undefined ? ` (--confirm "${values.confirm}" is not "${name}")` : '';
  throw new UsageError(
    `${command} ${action} database "${name}", which is production (${reasons.join(', ')}). Nothing was changed${mismatch}. ` +
      `If you mean it, repeat the command with --force --confirm ${name}`,
  );
}

/** The recorded environment of the database at `settings`, without creating it when it does not exist. */
export async function recordedEnvironmentAt(
  settings: Pick<Settings, 'databaseUrl' | 'dataDir'>,
  open: () => Promise<DatabaseHandle>,
): Promise<string | undefined> {
  if (!settings.databaseUrl && !existsSync(settings.dataDir)) return undefined;
  let handle: DatabaseHandle;
  try {
    handle = await open();
  } catch {
    return undefined; // no database yet: nothing recorded to protect
  }
  try {
    return await recordedEnvironment(handle);
  } finally {
    await handle.close();
  }
}
