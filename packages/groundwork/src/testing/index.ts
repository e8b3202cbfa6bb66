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
export { sentMail } from './mail.ts';
export { catalogObjects, describeMigrations, expectIndexScan, recordingExecutor } from './migrations.ts';
export { testSettings } from './settings.ts';
