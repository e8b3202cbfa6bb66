import type { RunResult } from '../../migrations/runner.ts';
import type { Output } from '../output.ts';

/** The summary every migrating command ends with (the per-migration lines were printed as they ran). */
export function printRun(out: Output, result: RunResult): void {
  if (result.sql !== undefined) {
    if (out.json) out.result(result);
    else process.stdout.write(result.sql);
    return;
  }
  const total = result.steps.reduce((sum, step) => sum + step.ms, 0);
  const verb = result.direction === 'up' ? 'applied' : 'reverted';
  out.result(
    result,
    result.steps.length === 0
      ? `Nothing to do: at ${result.to ?? 'base'}.`
      : `${verb} ${result.steps.length} migration(s) in ${total} ms: ${result.from ?? 'base'} -> ${result.to ?? 'base'}`,
  );
}
