import { z } from 'zod';
import { databaseErrorOf } from '../database/connection-errors.ts';
import type { DatabaseHandle } from '../database/open.ts';
import { executeRows } from '../database/rows.ts';
import type { Migration } from '../migrations/folder.ts';
import { MIGRATIONS_TABLE } from '../migrations/runner.ts';

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
  timestamp: string;
}

/** Pings the database and compares its applied migrations with the folder's; never throws. */
export async function checkReadiness(
  handle: DatabaseHandle<any>,
  migrations: Migration[],
  timeoutMs = 1000,
): Promise<ReadinessReport> {
  const timestamp = new Date().toISOString();
  const head = migrations.at(-1)?.id ?? null;
  let latencyMs: number;
  try {
    latencyMs = await handle.ping(timeoutMs);
  } catch (error) {
    const code = databaseErrorOf(error)?.code;
    const timeout = code === 'GW_PING_TIMEOUT';
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
  let applied: string[];
  try {
    const rows = await executeRows<{ id: string }>(
      handle.db,
      `select id from ${MIGRATIONS_TABLE} order by id`,
    );
    applied = rows.map((row) => row.id);
  } catch (error) {
    // No bookkeeping table yet: nothing applied.
    if (databaseErrorOf(error)?.code !== '42P01') throw error;
    applied = [];
  }
  const known = new Set(migrations.map((m) => m.id));
  const appliedSet = new Set(applied);
  const pending = migrations.filter((m) => !appliedSet.has(m.id)).length;
  const unknown = applied.filter((id) => !known.has(id));
  const report: ReadinessReport = {
    status: 'ok',
    database: 'connected',
    engine: handle.engine,
    latencyMs,
    migrations: { current: applied.at(-1) ?? null, head, pending },
    timestamp,
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
