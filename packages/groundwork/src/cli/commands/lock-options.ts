import type { MigrationSettings } from '../../config.ts';
import type { OptionSpec, OptionValues } from '../command.ts';
import { UsageError } from '../output.ts';

/** Options of every command that runs migrations: upgrade, downgrade, reset. */
export const LOCK_OPTIONS = {
  'lock-timeout': {
    type: 'string',
    description:
      'longest wait for one lock, in ms, before the attempt gives up (MIGRATION_LOCK_TIMEOUT_MS, default 1000; 0: no limit)',
  },
  'lock-retries': {
    type: 'string',
    description:
      'attempts after a lock timeout, with growing waits, before the migration fails (MIGRATION_LOCK_RETRIES, default 5)',
  },
} satisfies OptionSpec;

function whole(value: string | undefined, flag: string, max: number, unit: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < 0 || number > max) {
    throw new UsageError(`${flag} must be a whole number of ${unit} from 0 to ${max}, got "${value}"`);
  }
  return number;
}

/** The flags' values, validated; those not given are left out, so the settings' own apply. */
export function lockFlags(values: OptionValues<typeof LOCK_OPTIONS>): Partial<MigrationSettings> {
  const lockTimeoutMs = whole(values['lock-timeout'], '--lock-timeout', 600_000, 'milliseconds');
  const lockRetries = whole(values['lock-retries'], '--lock-retries', 100, 'retries');
  return {
    ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }),
    ...(lockRetries === undefined ? {} : { lockRetries }),
  };
}
