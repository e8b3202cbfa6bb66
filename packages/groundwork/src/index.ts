export {
  type AppAuth,
  type AppContext,
  type AppDefinition,
  defineApp,
  type RoutesPlugin,
} from './app.ts';
export { ensureOwnClaim, ensureOwnUser, type RowScope, rowScopeOf } from './auth/access.ts';
export { accountName, foldedName, sameName } from './auth/account-names.ts';
export { type OwnRowRoutes, ownRowRoutes } from './auth/own-row-routes.ts';
export { type PasswordAccount, passwordLoginRoutes, registrationRateLimit } from './auth/password-login.ts';
export { newPassword, PASSWORD_MAX, PASSWORD_MIN, presentedPassword } from './auth/password-policy.ts';
export {
  type AuthPasswordResetsTable,
  authPasswordResetsTable,
  type PasswordRecovery,
} from './auth/password-recovery.ts';
export type { Access, Identity } from './auth/plugin.ts';
export {
  onSecurityEvent,
  type SecurityEvent,
  type SecurityEventFields,
  securityEvent,
} from './auth/security-events.ts';
export { type AuthSessionsTable, authSessionsTable } from './auth/sessions.ts';
export type { TokenUsers } from './auth/token-users.ts';
export {
  loadSettings,
  type MigrationSettings,
  type RawEnv,
  type Settings,
  SettingsError,
} from './config.ts';
export { backupDatabase, restoreDatabase } from './database/backup.ts';
export type { Caller, CallerGuard, Owns } from './database/callers.ts';
export { databaseErrorOf, isUnavailable } from './database/connection-errors.ts';
export { PoolTimeoutError } from './database/gate.ts';
export {
  type Database,
  type DatabaseHandle,
  describeDatabase,
  type Executor,
  type ExtensionName,
  openDatabase,
  type Transaction,
} from './database/open.ts';
export {
  type AsCaller,
  type Bindable,
  hotQuery,
  hotUpdate,
  type PreparedQuery,
  placeholders,
  preparePerKeys,
  prepareQuery,
} from './database/prepared.ts';
export { readYourWrites } from './database/read-your-writes.ts';
export type { ReplicaStatus } from './database/replicas.ts';
export { type RowById, type RowByIdOptions, rowById } from './database/row-by-id.ts';
export { executeRows } from './database/rows.ts';
export { isoTimestamp } from './database/timestamps.ts';
export type { AppServer } from './http/app-server.ts';
export { type ErrorBody, errorBodySchema, HttpError, notFound } from './http/errors.ts';
export { checkReadiness, type ReadinessReport, readinessSchema } from './http/health.ts';
export {
  HEALTH_RETRY_AFTER_S,
  type HealthRouteOptions,
  healthRoute,
  readinessRoutes,
} from './http/health-route.ts';
export {
  BODY_DEPTH_MAX,
  boundedJson,
  boundedJsonObject,
  JSON_LIMITS,
  type JsonProblem,
  jsonProblem,
  nonEmptyPatch,
  safeText,
} from './http/input.ts';
export {
  keysetPage,
  keysetPageQuery,
  offsetPage,
  offsetPageQuery,
  type PageLimits,
  toKeysetPage,
} from './http/pagination.ts';
export { IdParams, IntegerIdParams } from './http/params.ts';
export { answering, errorResponses } from './http/responses.ts';
export { checkDatabase, checkFolder } from './migrations/check.ts';
export { MigrationError, MigrationLockTimeoutError } from './migrations/errors.ts';
export { readMigrations } from './migrations/folder.ts';
export { readState } from './migrations/plan.ts';
export { createRevision, RevisionRefusedError } from './migrations/revision.ts';
export { downgrade, stamp, upgrade } from './migrations/runner.ts';
export { redactSecrets } from './redact.ts';
export { appSettings, type RunningApp, startApp } from './runtime.ts';
export { hashPassword, needsRehash, verifyPassword } from './security/passwords.ts';
export {
  DEV_SECRET_KEYS_FILE,
  developmentKeyRing,
  generateKey,
  isCurrent,
  type KeyRing,
  keyIdOf,
  open,
  parseKeyRing,
  reseal,
  type SealedPlace,
  SecretError,
  SecretKeyError,
  seal,
} from './security/secrets.ts';
export { defineSeed, type Seed, type SeedContext, type SeedTransaction } from './seed/seed.ts';
export { buildServer } from './server.ts';
