import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { cacheFolder } from './src/cache-folder.ts';
import { testDefaults } from './src/testing/preset.ts';

export default defineConfig({
  test: {
    ...testDefaults,
    env: {
      // The CLI and servers these tests start run src/cli/bin.ts, which enables Node's compile cache only once it
      // is stripped of its types: enabled from the start (the folder bin.ts uses), no process loads the type
      // stripper, which is a large part of a short CLI run's CPU (docs/testing.md).
      NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(cacheFolder(), 'node-compile-cache'),
    },
  },
});
