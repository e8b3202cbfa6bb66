import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Each file opens its own PGlite (a few seconds with pgvector loaded), so timeouts are generous.
  test: { include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
});
