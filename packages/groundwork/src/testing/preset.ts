/**
 * vitest settings for suites on groundwork-pg/testing, shared by every app:
 * `defineConfig({ test: { ...testDefaults } })`. A migrated PGlite or a server template takes seconds to
 * build on a busy machine, longer than vitest's 10 s default for hooks.
 */
export const testDefaults = {
  include: ['test/**/*.test.ts'],
  // Limits catch a hung test, not a slow one: a loaded 2-core machine has run single tests past 30 s.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // V8's optimizing tier for PGlite's WebAssembly costs more than it saves in a test run: learnr's suite took
  // 20% less CPU without it, and the whole `npm test` on PGlite 238 s against 262 s with both tiers (421 against
  // 470 s of CPU), also now that a worker keeps its modules from file to file.
  execArgv: ['--liftoff-only'],
  // A worker keeps its modules from one test file to the next: each test gets its own database from the
  // harness, and importing Fastify, Drizzle and PGlite anew per file was ~2 s of each file's time (apps' suites:
  // 98 s wall and 178 s CPU with isolation, 71 s and 127 s without). A file that needs fresh module state
  // asks for it with vi.resetModules().
  isolate: false,
};
