import { sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../database/open.ts';
import { executeRows } from '../database/rows.ts';
import { HttpError } from '../http/errors.ts';
import { RATE_LIMITS_TABLE } from '../migrations/bookkeeping.ts';
import { type SecurityEvent, type SecurityEventFields, securityEvent } from './security-events.ts';

/** A key's count in its current fixed window, and the seconds until that window ends. */
export interface WindowCount {
  count: number;
  resetInS: number;
}

/**
 * Where rate-limit counters live: this process's memory (one process, PGlite) or the app's PostgreSQL, so
 * every worker and instance counts the same attempts.
 */
export interface CounterStore {
  /** Counts one more for `key` in a window of `windowMs` that starts with its first count. */
  add(key: string, windowMs: number): Promise<WindowCount>;
  /** The count so far, without adding (0 once the window is over). */
  read(key: string): Promise<WindowCount>;
  clear(key: string): Promise<void>;
}

/** At most this many keys are kept in memory (the oldest are forgotten), so made-up keys cannot exhaust it. */
const MEMORY_KEYS = 10_000;

export function memoryCounters(): CounterStore {
  const windows = new Map<string, { endsAt: number; count: number }>();
  const resetInS = (endsAt: number) => Math.max(1, Math.ceil((endsAt - Date.now()) / 1000));
  return {
    async add(key, windowMs) {
      let window = windows.get(key);
      if (!window || window.endsAt <= Date.now()) {
        windows.delete(key);
        window = { endsAt: Date.now() + windowMs, count: 0 };
        windows.set(key, window);
        if (windows.size > MEMORY_KEYS) windows.delete(windows.keys().next().value!);
      }
      window.count++;
      return { count: window.count, resetInS: resetInS(window.endsAt) };
    },
    async read(key) {
      const window = windows.get(key);
      if (!window || window.endsAt <= Date.now()) return { count: 0, resetInS: 0 };
      return { count: window.count, resetInS: resetInS(window.endsAt) };
    },
    async clear(key) {
      windows.delete(key);
    },
  };
}

/** The counters' table, if missing: a no-op (no catalog write) once it exists. */
export function createCountersTable(db: Database<any>): Promise<unknown> {
  return executeRows(
    db,
    sql`create unlogged table if not exists ${sql.raw(RATE_LIMITS_TABLE)} (
      key text primary key, window_ends timestamptz not null, count integer not null)`,
  );
}

/**
 * Counters in an UNLOGGED table of the app's database (no WAL: they are worth losing in a crash), created on
 * first use. Each check is one statement: an upsert that starts a new window when the old one ended.
 */
export function databaseCounters(db: Database<any>): CounterStore {
  let created: Promise<unknown> | undefined;
  const ready = () =>
    (created ??= createCountersTable(db).catch((error) => {
      created = undefined;
      throw error;
    }));
  const counted = (rows: { count: number; reset_in_s: number }[]): WindowCount =>
    rows[0] ? { count: rows[0].count, resetInS: Math.max(1, rows[0].reset_in_s) } : { count: 0, resetInS: 0 };
  return {
    async add(key, windowMs) {
      await ready();
      return counted(
        await executeRows(
          db,
          sql`insert into ${sql.raw(RATE_LIMITS_TABLE)} as r (key, window_ends, count)
            values (${key}, now() + ${windowMs}::integer * interval '1 millisecond', 1)
            on conflict (key) do update set
              count = case when r.window_ends <= now() then 1 else r.count + 1 end,
              window_ends = case when r.window_ends <= now() then excluded.window_ends else r.window_ends end
            returning count, ceil(extract(epoch from r.window_ends - now()))::int as reset_in_s`,
        ),
      );
    },
    async read(key) {
      await ready();
      return counted(
        await executeRows(
          db,
          sql`select count, ceil(extract(epoch from window_ends - now()))::int as reset_in_s
            from ${sql.raw(RATE_LIMITS_TABLE)} where key = ${key} and window_ends > now()`,
        ),
      );
    },
    async clear(key) {
      await ready();
      // Windows long over go with it, so the table holds only live counters and a few stale ones.
      await executeRows(
        db,
        sql`delete from ${sql.raw(RATE_LIMITS_TABLE)} where key = ${key} or window_ends < now() - interval '1 hour'`,
      );
    },
  };
}

/** A limit of `max` in a fixed window, over a counter store; `name` keeps limits apart in a shared store. */
export function windowLimit(name: string, max: number, windowMs: number) {
  const scoped = (key: string) => `${name}:${key}`;
  return {
    /** Counts one; the seconds to wait when this one is over the limit. */
    async hit(store: CounterStore, key: string): Promise<number | undefined> {
      const { count, resetInS } = await store.add(scoped(key), windowMs);
      return count > max ? resetInS : undefined;
    },
    /** The seconds to wait when the limit is already reached, counting nothing. */
    async reached(store: CounterStore, key: string): Promise<number | undefined> {
      const { count, resetInS } = await store.read(scoped(key));
      return count >= max ? resetInS : undefined;
    },
    /** Counts one; true when this one reached the limit. */
    async count(store: CounterStore, key: string): Promise<boolean> {
      return (await store.add(scoped(key), windowMs)).count === max;
    },
    clear: (store: CounterStore, key: string) => store.clear(scoped(key)),
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's rate-limit counters; registerAuth sets them. */
    counterStore?: CounterStore;
  }
}

export function counterStoreOf(app: FastifyInstance): CounterStore {
  if (!app.counterStore) throw new Error('rate limits need the auth hook (registerAuth) on this app');
  return app.counterStore;
}

/** 429 with Retry-After ("too many <what>"), logged as a security event. */
export function tooMany(
  request: FastifyRequest,
  reply: FastifyReply,
  event: SecurityEvent,
  fields: SecurityEventFields,
  retryAfterS: number,
  what: string,
): HttpError {
  securityEvent(request, event, fields);
  reply.header('retry-after', retryAfterS);
  return new HttpError(429, 'rate_limited', `too many ${what}; retry in ${retryAfterS} seconds`);
}
