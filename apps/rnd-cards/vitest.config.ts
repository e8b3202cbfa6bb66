import { testDefaults } from 'groundwork-pg/testing/preset';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    ...testDefaults,
    coverage: {
      provider: 'v8',
      // The story's bar is the repositories: report them (and the rest of src) and hold them at 100%.
      include: ['src/**/*.ts'],
      reporter: ['text', 'json-summary'],
      thresholds: { 'src/**/repository.ts': { lines: 100, functions: 100, branches: 100, statements: 100 } },
    },
  },
});
