import { defineConfig } from 'vitest/config';
import { testDefaults } from '../../../src/testing/preset.ts';

/** Runs the deliberately incomplete ownership suites that test/ownership.test.ts expects to fail. */
export default defineConfig({
  test: { ...testDefaults, include: ['*.check.ts'], root: import.meta.dirname },
});
