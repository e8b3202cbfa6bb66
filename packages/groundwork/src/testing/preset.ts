/**
 * vitest settings for suites on groundwork-pg/testing, shared by every app:
 * `defineConfig({ test: { ...testDefaults } })`. A migrated PGlite or a server template takes seconds to
 * build on a busy machine, longer than vitest's 10 s default for hooks.
 */
export const testDefaults = {
  include: ['test/**/*.test.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};
