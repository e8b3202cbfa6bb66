import { appCoverage, testDefaults } from 'groundwork-pg/testing/preset';
import { defineConfig } from 'vitest/config';

const all = { lines: 100, functions: 100, branches: 100, statements: 100 };

export default defineConfig({
  test: {
    ...testDefaults,
    // The story's bar is the repositories: report them (and the rest of src) and hold them at 100%.
    coverage: appCoverage({ 'src/**/repository.ts': all }, ['text', 'json-summary']),
  },
});
