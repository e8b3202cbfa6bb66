import { appCoverage, testDefaults } from 'groundwork-pg/testing/preset';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The story's QA bar: the suite fails when app coverage drops below 80%.
  test: {
    ...testDefaults,
    coverage: appCoverage({ lines: 80, statements: 80, functions: 80, branches: 80 }),
  },
});
