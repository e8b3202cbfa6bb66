import type { CoverageV8Options } from 'vitest/node';

/**
 * vitest settings for suites on groundwork-pg/testing, shared by every app:
 * `defineConfig({ test: { ...testDefaults } })`. A migrated PGlite or a server template takes seconds to
 * build on a busy machine, longer than vitest's 10 s default for hooks.
 */
export const testDefaults = {
  include: ['test/**/*.test.ts'],
  // Limits catch a hung test, not a slow one: a loaded 2-core machine runs single tests far past their usual time.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // V8's optimizing tier for PGlite's WebAssembly costs more than it saves in a test run: processes this
  // short never earn back its compile (docs/testing.md).
  execArgv: ['--liftoff-only'],
  // A worker keeps its modules from one test file to the next: each test gets its own database from the
  // harness, so files share no data, and importing Fastify, Drizzle and PGlite anew would be a large part of
  // each file's time (docs/testing.md). A file that needs fresh module state asks for it with vi.resetModules().
  isolate: false,
};

/**
 * An app's coverage settings: its own `src`, by V8, held to the thresholds its story sets
 * (`test: { ...testDefaults, coverage: appCoverage({ lines: 80 }) }`).
 */
export function appCoverage(
  thresholds: NonNullable<CoverageV8Options['thresholds']>,
  reporter: CoverageV8Options['reporter'] = ['text', 'text-summary'],
): CoverageV8Options & { provider: 'v8' } {
  return { provider: 'v8', include: ['src/**/*.ts'], reporter, thresholds };
}
