import { defineConfig } from 'vitest/config';
import { testDefaults } from './src/testing/preset.ts';

export default defineConfig({ test: testDefaults });
