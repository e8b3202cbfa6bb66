import { testDefaults } from 'groundwork-pg/testing/preset';
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: testDefaults });
