import { and, desc, eq, gt, inArray, lte, ne, sql } from 'drizzle-orm';
import { index, type PgColumn, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { Database } from '../database/open.ts';
import { prepareQuery } from '../database/prepared.ts';
import { isoClock } from '../database/timestamps.ts';
import { type SessionGuard, sessionGuard } from './caller-guards.ts';
import { createSessionToken } from './session-tokens.ts';

/**
 * The sessions of a password app, for its schema.ts: `export const authSessions = authSessionsTable(users.id)`;
 * `revision --autogenerate` then creates it. A row holds the SHA-256 of a token, never the token.
 */
export function authSessionsTable(userId: PgColumn) {
  return pgTable(
    'auth_sessions',
    {
      tokenDigest: text('token_digest').primaryKey(),
      userId: uuid('user_id')
        .notNull()
        .references(() => userId, { onDelete: 'cascade' }),
      createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
      /** When the session last authenticated a request, to the minute: the idle timeout counts from it. */
      lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
      /** The absolute end of the session, however active. */
      expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    },
    (t) => [
      index('auth_sessions_user_id_idx').on(t.userId),
      index('auth_sessions_expires_at_idx').on(t.expiresAt),
    ],
  );
}

export type AuthSessionsTable = ReturnType<typeof authSessionsTable>;

export interface SessionLifetimes {
  /** Absolute lifetime in seconds. */
  ttlS: number;
  /** A session unused this many seconds is refused. */
  idleS: number;
}

/** A session as its user sees it in "my sessions"; `id` is the token's digest, which cannot log anyone in. */
export interface SessionSummary {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

/** Expired rows deleted per login: more than a login adds, so the table cannot grow without bound. */
const EXPIRED_PER_LOGIN = 100;
/** last_seen_at is written at most this often per session (and at least 4 times per idle timeout). */
const TOUCH_EVERY_MS = 60_000;
/** Sessions whose last touch this process remembers (for `seen`); the oldest is forgotten first. */
const SEEN_MAX = 10_000;

/** Opens, finds, lists and revokes sessions in an app's auth_sessions table. */
export function createSessionStore(db: Database, table: AuthSessionsTable, lifetimes: SessionLifetimes) {
  // Read on every request a session token authenticates: built once, not per request.
  const live = prepareQuery(
    db,
    'groundwork_live_session',
    db
      .select({ userId: table.userId, lastSeenAt: table.lastSeenAt })
      .from(table)
      .where(
        and(
          eq(table.tokenDigest, sql.placeholder('digest')),
          gt(table.expiresAt, sql.placeholder('now')),
          gt(table.lastSeenAt, sql.placeholder('idleSince')),
        ),
      ),
  );
  const touchEveryMs = Math.min(TOUCH_EVERY_MS, (lifetimes.idleS * 1000) / 4);
  /** digest -> when this process last moved (or found current) its last_seen_at. */
  const touched = new Map<string, number>();
  const remember = (digest: string, at: number) => {
    touched.delete(digest);
    if (touched.size >= SEEN_MAX) touched.delete(touched.keys().next().value as string);
    touched.set(digest, at);
  };
  /** Moves last_seen_at to `now`, unless it moved within the interval (by any process: the update's condition). */
  const touch = (digest: string, now: number): Promise<void> => {
    remember(digest, now);
    return db
      .update(table)
      .set({ lastSeenAt: new Date(now) })
      .where(and(eq(table.tokenDigest, digest), lte(table.lastSeenAt, new Date(now - touchEveryMs))))
      .then(() => undefined);
  };
  // As the columns encode Dates (a placeholder is not encoded): ISO 8601 text, of now and of the idle limit.
  const isoNow = isoClock();
  const isoIdleSince = isoClock();
  const expired = (now: Date) =>
    db
      .select({ digest: table.tokenDigest })
      .from(table)
      .where(lte(table.expiresAt, now))
      .limit(EXPIRED_PER_LOGIN);
  return {
    /** A new session for `userId`: the token for the client, its expiry. */
    async open(userId: string): Promise<{ token: string; expiresAt: Date }> {
      const { token, digest } = createSessionToken();
      const now = new Date();
      const expiresAt = new Date(now.getTime() + lifetimes.ttlS * 1000);
      await db
        .insert(table)
        .values({ tokenDigest: digest, userId, expiresAt, createdAt: now, lastSeenAt: now });
      // Expired sessions are cleaned here, never when a request presents one: refusing a token costs one read.
      await db.delete(table).where(inArray(table.tokenDigest, expired(now)));
      return { token, expiresAt };
    },
    /**
     * The user of a live session: one indexed read, and nothing written for an unknown, expired or idle
     * token. A live session's last_seen_at is moved on at most once a minute.
     */
    async userIdOf(digest: string): Promise<string | undefined> {
      const now = Date.now();
      const [row] = await live.execute({
        digest,
        now: isoNow(now),
        idleSince: isoIdleSince(now - lifetimes.idleS * 1000),
      });
      if (row && now - row.lastSeenAt.getTime() >= touchEveryMs) await touch(digest, now);
      return row?.userId;
    },
    /** The check of a live session inside a route's own statement (`inQuery` routes). */
    inQuery: {
      guard: sessionGuard(table),
      values(digest: string) {
        const now = Date.now();
        return {
          groundwork_digest: digest,
          groundwork_now: isoNow(now),
          groundwork_idle_since: isoIdleSince(now - lifetimes.idleS * 1000),
        };
      },
      /**
       * Moves last_seen_at on as `userIdOf` does, with no read: this process remembers when it last moved each
       * session (bounded), so it writes at most once per interval; the update's own condition keeps that true
       * across processes (the column then lags by at most two intervals, half the idle timeout).
       */
      seen(digest: string): Promise<void> | undefined {
        const now = Date.now();
        const at = touched.get(digest);
        if (at !== undefined && now - at < touchEveryMs) return undefined;
        return touch(digest, now);
      },
    } satisfies SessionGuard,
    async revoke(digest: string): Promise<void> {
      await db.delete(table).where(eq(table.tokenDigest, digest));
    },
    /** The user's live sessions, most recently used first. */
    async list(userId: string): Promise<SessionSummary[]> {
      const now = Date.now();
      return db
        .select({
          id: table.tokenDigest,
          createdAt: table.createdAt,
          lastSeenAt: table.lastSeenAt,
          expiresAt: table.expiresAt,
        })
        .from(table)
        .where(
          and(
            eq(table.userId, userId),
            gt(table.expiresAt, new Date(now)),
            gt(table.lastSeenAt, new Date(now - lifetimes.idleS * 1000)),
          ),
        )
        .orderBy(desc(table.lastSeenAt));
    },
    /** Revokes one of the user's sessions; false when the user has no such session. */
    async revokeOwn(userId: string, digest: string): Promise<boolean> {
      const deleted = await db
        .delete(table)
        .where(and(eq(table.userId, userId), eq(table.tokenDigest, digest)))
        .returning({ digest: table.tokenDigest });
      return deleted.length > 0;
    },
    /** Revokes every session of the user, except the one with digest `keep`; answers how many ended. */
    async revokeAll(userId: string, keep?: string): Promise<number> {
      const deleted = await db
        .delete(table)
        .where(and(eq(table.userId, userId), keep === undefined ? undefined : ne(table.tokenDigest, keep)))
        .returning({ digest: table.tokenDigest });
      return deleted.length;
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
