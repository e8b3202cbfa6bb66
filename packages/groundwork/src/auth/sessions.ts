import { and, eq, gt, lte, sql } from 'drizzle-orm';
import { index, type PgColumn, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { Database } from '../database/open.ts';
import { prepareQuery } from '../database/prepared.ts';
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
      expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    },
    (t) => [
      index('auth_sessions_user_id_idx').on(t.userId),
      index('auth_sessions_expires_at_idx').on(t.expiresAt),
    ],
  );
}

export type AuthSessionsTable = ReturnType<typeof authSessionsTable>;

/** Opens, finds and revokes sessions in an app's auth_sessions table. */
export function createSessionStore(db: Database, table: AuthSessionsTable, ttlSeconds: number) {
  // Read on every request a session token authenticates: built once, not per request.
  const live = prepareQuery(
    db,
    'groundwork_live_session',
    db
      .select({ userId: table.userId })
      .from(table)
      .where(
        and(eq(table.tokenDigest, sql.placeholder('digest')), gt(table.expiresAt, sql.placeholder('now'))),
      ),
  );
  return {
    /** A new session for `userId`: the token for the client, its expiry. */
    async open(userId: string): Promise<{ token: string; expiresAt: Date }> {
      const { token, digest } = createSessionToken();
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
      await db.insert(table).values({ tokenDigest: digest, userId, expiresAt });
      return { token, expiresAt };
    },
    /** The user of a live session; an expired one is deleted on sight. */
    async userIdOf(digest: string): Promise<string | undefined> {
      // As the column encodes a Date (a placeholder is not encoded): ISO 8601 text.
      const [row] = await live.execute({ digest, now: new Date().toISOString() });
      if (!row)
        await db.delete(table).where(and(eq(table.tokenDigest, digest), lte(table.expiresAt, new Date())));
      return row?.userId;
    },
    async revoke(digest: string): Promise<void> {
      await db.delete(table).where(eq(table.tokenDigest, digest));
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
