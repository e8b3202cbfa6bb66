export { setupTestApp, type TestApp, type TestAppOptions } from './app.ts';
export {
  createPgliteTestDatabase,
  createServerTestDatabase,
  createTestDatabase,
  serverDatabasePipeline,
  type TestDatabase,
  type TestOptions,
  testBackend,
  truncateAll,
} from './databases.ts';
export { describeIndexUse, type IndexUseCase } from './index-use.ts';
export { catalogObjects, describeMigrations, expectIndexScan, recordingExecutor } from './migrations.ts';
export { describeOwnership, type OwnershipFixtures, type OwnershipUser } from './ownership.ts';
export { testSettings } from './settings.ts';
