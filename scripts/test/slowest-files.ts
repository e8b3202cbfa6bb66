/**
 * A vitest reporter (beside the default one) that ends `npm test` with the run's wall time and its slowest
 * test files, import included: where the time goes, printed by every run rather than guessed.
 */
import type { Reporter, TestModule } from 'vitest/node';

const SHOWN = 12;

export default class SlowestFiles implements Reporter {
  #started = performance.now();

  onTestRunStart(): void {
    this.#started = performance.now();
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const timed = modules.map((module) => {
      const { collectDuration, duration } = module.diagnostic();
      return { file: `${module.project.name}/${module.relativeModuleId}`, ms: collectDuration + duration };
    });
    timed.sort((a, b) => b.ms - a.ms);
    const wall = (performance.now() - this.#started) / 1000;
    const lines = timed
      .slice(0, SHOWN)
      .map(({ file, ms }) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${file}`);
    console.log(
      `\nwall time ${wall.toFixed(0)} s for ${modules.length} files; slowest (import + tests):\n${lines.join('\n')}`,
    );
  }
}
