import { testDefaults } from 'groundwork-pg/testing/preset';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    ...testDefaults,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text', 'text-summary'],
      // The story's QA bar: the suite fails when app coverage drops below 80%.
      thresholds: { lines: 80, statements: 80, functions: 80, branches: 80 },
    },
  },
});
