export { type PasswordAccountRequests, passwordAccountRequests } from './accounts.ts';
export { setupTestApp, type TestApp, type TestAppOptions } from './app.ts';
export { terminateConnections } from './connections.ts';
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
export { describeIndexUse, type IndexUseCase, pageCases } from './index-use.ts';
export { sentMail } from './mail.ts';
export { catalogObjects, describeMigrations, expectIndexScan, recordingExecutor } from './migrations.ts';
export {
  describeOwnership,
  type OwnershipFixtures,
  type OwnershipUser,
  type SessionUser,
  sessionRouteRequests,
  sessionUser,
} from './ownership.ts';
export { databaseRefusal } from './refusals.ts';
export { serveOnDatabase } from './serve.ts';
export { testSettings } from './settings.ts';
