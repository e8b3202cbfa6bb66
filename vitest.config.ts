import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * `npm test`: every workspace's suite in one vitest run. Files from all six projects share one worker pool,
 * so a slow file does not hold up the suites after it; each project keeps its own vitest.config.ts.
 */
export default defineConfig({
  test: {
    projects: [
      'packages/groundwork',
      'apps/*',
      // The app `groundwork new` copies, tested like the apps.
      'packages/groundwork/template',
      // The repository's own tooling (the build check of `npm start`).
      { test: { name: 'scripts', include: ['scripts/*.test.ts'] } },
    ],
    // One worker per core (vitest's default leaves one idle): much of a test's time is spent waiting on
    // child processes and databases. A third worker on 2 cores pushed single tests past their timeouts
    // under load. TEST_WORKERS overrides.
    maxWorkers: Number(process.env.TEST_WORKERS) || availableParallelism(),
    reporters: ['default', './scripts/test/slowest-files.ts'],
    coverage: {
      provider: 'v8',
      // The learnr story's QA bar: the run fails when that app's coverage drops below 80%.
      include: ['apps/learnr/src/**/*.ts'],
      reporter: ['text-summary'],
      thresholds: { lines: 80, statements: 80, functions: 80, branches: 80 },
    },
  },
});
