import { z } from 'zod';
import { databaseErrorOf, PING_TIMEOUT } from '../database/connection-errors.ts';
import type { DatabaseHandle } from '../database/open.ts';
import type { ReplicaStatus } from '../database/replicas.ts';
import { executeRows } from '../database/rows.ts';
import { type AppliedRow, SELECT_APPLIED, toAppliedRows } from '../migrations/bookkeeping.ts';
import type { Migration } from '../migrations/folder.ts';
import { stateOf, unknownApplied } from '../migrations/plan.ts';

/** Response schema of a readiness report; apps extend it for their own health bodies. */
export const readinessSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  database: z.enum(['connected', 'disconnected']),
  engine: z.enum(['pglite', 'postgres']),
  latencyMs: z.number().nullable(),
  migrations: z
    .object({ current: z.string().nullable(), head: z.string().nullable(), pending: z.number() })
    .nullable(),
  reason: z.string().optional(),
  error: z.string().optional(),
  replicas: z
    .array(
      z.object({
        name: z.string(),
        state: z.enum(['ok', 'lagging', 'down', 'unknown']),
        lagMs: z.number().nullable(),
        error: z.string().optional(),
      }),
    )
    .optional(),
  timestamp: z.string(),
});

export interface ReadinessReport {
  status: 'ok' | 'unavailable';
  database: 'connected' | 'disconnected';
  engine: 'pglite' | 'postgres';
  latencyMs: number | null;
  migrations: { current: string | null; head: string | null; pending: number } | null;
  /** Why the app is not ready; absent when it is. */
  reason?: 'unreachable' | 'timeout' | 'pending_migrations' | 'unknown_migrations';
  /** Sanitized: a short description and an error code, never a host, SQL or credential. */
  error?: string;
  /** With DATABASE_REPLICA_URLS: each replica's state; none of them makes the report fail. */
  replicas?: ReplicaStatus[];
  timestamp: string;
}

/**
 * How long a current migration state is trusted. This process changes it only by upgrading, which makes a
 * pending state current; another process (newer code's deploy) may upgrade or downgrade, which is seen
 * within this time. A state that is not current is read again on every check, so recovery is seen at once.
 */
export const MIGRATION_STATE_TTL_MS = 1000;

type MigrationsReport = Pick<ReadinessReport, 'migrations' | 'reason' | 'error'> & {
  status: ReadinessReport['status'];
};

const currentStates = new WeakMap<
  DatabaseHandle,
  { migrations: Migration[]; report: MigrationsReport; readAt: number }
>();

/** Compares the database's applied migrations with the folder's. */
async function readMigrationsReport(
  handle: DatabaseHandle,
  migrations: Migration[],
): Promise<MigrationsReport> {
  let applied: AppliedRow[];
  try {
    applied = toAppliedRows(
      await executeRows<AppliedRow & Record<string, unknown>>(handle.db, SELECT_APPLIED),
    );
  } catch (error) {
    // No bookkeeping table yet: nothing applied.
    if (databaseErrorOf(error)?.code !== '42P01') throw error;
    applied = [];
  }
  const state = stateOf(migrations, applied);
  const pending = state.pending.length;
  const unknown = unknownApplied(state);
  const report: MigrationsReport = {
    status: 'ok',
    migrations: { current: state.current, head: state.head, pending },
  };
  if (pending > 0) {
    return {
      ...report,
      status: 'unavailable',
      reason: 'pending_migrations',
      error: `pending migrations: ${pending}`,
    };
  }
  if (unknown.length > 0) {
    return {
      ...report,
      status: 'unavailable',
      reason: 'unknown_migrations',
      error: `database has ${unknown.length} migration(s) this code does not know (deployed code is older)`,
    };
  }
  return report;
}

/**
 * Pings the database (live, every call) and compares its applied migrations with the folder's (cached for
 * MIGRATION_STATE_TTL_MS while current); an unreachable database is a report, not an error.
 */
export async function checkReadiness(
  handle: DatabaseHandle,
  migrations: Migration[],
  timeoutMs = 1000,
): Promise<ReadinessReport> {
  // The primary alone can serve every request, so replicas are reported, never a reason to fail.
  const [report, replicas] = await Promise.all([
    primaryReadiness(handle, migrations, timeoutMs),
    handle.replicas(),
  ]);
  return replicas.length > 0 ? { ...report, replicas } : report;
}

async function primaryReadiness(
  handle: DatabaseHandle,
  migrations: Migration[],
  timeoutMs = 1000,
): Promise<ReadinessReport> {
  const timestamp = new Date().toISOString();
  let latencyMs: number;
  try {
    latencyMs = await handle.ping(timeoutMs);
  } catch (error) {
    const code = databaseErrorOf(error)?.code;
    const timeout = code === PING_TIMEOUT;
    return {
      status: 'unavailable',
      database: 'disconnected',
      engine: handle.engine,
      latencyMs: null,
      migrations: null,
      reason: timeout ? 'timeout' : 'unreachable',
      error: timeout
        ? `database did not answer within ${timeoutMs} ms`
        : `database unreachable${code ? ` (${code})` : ''}`,
      timestamp,
    };
  }
  const cached = currentStates.get(handle);
  let report: MigrationsReport;
  if (
    cached &&
    cached.migrations === migrations &&
    performance.now() - cached.readAt < MIGRATION_STATE_TTL_MS
  ) {
    report = cached.report;
  } else {
    report = await readMigrationsReport(handle, migrations);
    if (report.status === 'ok') currentStates.set(handle, { migrations, report, readAt: performance.now() });
    else currentStates.delete(handle);
  }
  return { database: 'connected', engine: handle.engine, latencyMs, ...report, timestamp };
}
