import { and, asc, eq, gt, isNotNull, or, sql } from 'drizzle-orm';
import { type Caller, type Database, type Executor, executeRows, rowById } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { users } from '../schema.ts';

export type UserRow = typeof users.$inferSelect;
type Db = Executor<typeof schema>;

export interface SealedTokens {
  accessToken: string | null;
  refreshToken: string | null;
}

export interface UserChanges {
  telegramId?: string | null;
  telegramUsername?: string | null;
  onboardingCompleted?: boolean;
}

const isActive = eq(users.isActive, true);
const active = (id: number) => and(eq(users.id, id), isActive);

/** A sealed value (`v2.<keyId>.<iv>.<payload>`) not yet in the current form: v2 under `keyId`. */
const notCurrent = (column: typeof users.gmailOauthToken | typeof users.gmailRefreshToken, keyId: string) =>
  and(
    isNotNull(column),
    sql`split_part(${column}, '.', 1) || '.' || split_part(${column}, '.', 2) <> ${`v2.${keyId}`}`,
  );

/** Rows with at least one token not sealed in v2 under `keyId` (an older key, or v1 not bound to its row). */
const sealedOutside = (keyId: string) =>
  or(notCurrent(users.gmailOauthToken, keyId), notCurrent(users.gmailRefreshToken, keyId));

/** Users: every read and write of the API goes through here; inactive (soft-deleted) users are invisible. */
export function createUsersRepository(db: Database<typeof schema>) {
  // What requests repeat, built once: the by-id read and the PATCH (one statement per set of changed fields).
  // Each carries the check of a `caller` (an inQuery route's) in the same statement.
  const byId = rowById(db, { name: 'mail_agent_user', table: users, id: users.id, where: isActive });

  return {
    async create({ email }: { email: string }, executor: Db = db): Promise<UserRow> {
      const [row] = await executor.insert(users).values({ email }).returning();
      return row!;
    },

    findById: byId.find,

    /** Keyset pagination on id: stable under concurrent inserts, no OFFSET scans. */
    async listActive(
      { limit, after }: { limit: number; after?: number },
      executor: Db = db,
    ): Promise<UserRow[]> {
      return executor
        .select()
        .from(users)
        .where(and(isActive, after === undefined ? undefined : gt(users.id, after)))
        .orderBy(asc(users.id))
        .limit(limit);
    },

    async update(
      { id, changes, caller }: { id: number; changes: UserChanges; caller?: Caller },
      executor: Db = db,
    ) {
      // An undefined field is left as it is, as set() leaves it.
      const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
      return byId.update({ id, caller }, defined, executor);
    },

    /**
     * Soft delete: the row stays, the API stops seeing it. The Gmail tokens are cleared with it, because a
     * deactivated account must not keep a live grant to someone's mailbox.
     */
    async deactivate({ id }: { id: number }, executor: Db = db): Promise<boolean> {
      const rows = await executor
        .update(users)
        .set({ isActive: false, gmailOauthToken: null, gmailRefreshToken: null })
        .where(active(id))
        .returning({ id: users.id });
      return rows.length > 0;
    },

    /** Takes values already sealed: this module never sees a plaintext token. */
    async setSealedTokens({ id, tokens }: { id: number; tokens: SealedTokens }, executor: Db = db) {
      const rows = await executor
        .update(users)
        .set({ gmailOauthToken: tokens.accessToken, gmailRefreshToken: tokens.refreshToken })
        .where(active(id))
        .returning({ id: users.id });
      return rows.length > 0;
    },

    async sealedTokens({ id }: { id: number }, executor: Db = db): Promise<SealedTokens | undefined> {
      const [row] = await executor
        .select({ accessToken: users.gmailOauthToken, refreshToken: users.gmailRefreshToken })
        .from(users)
        .where(active(id));
      return row;
    },

    /**
     * One sealed value per key id in use, with the user and token it belongs to (v2 values open only there)
     * and how many users hold a token under that key (startup check).
     */
    async sealedKeySamples(executor: Db = db): Promise<
      {
        keyId: string;
        sealed: string;
        userId: number;
        token: 'accessToken' | 'refreshToken';
        users: number;
      }[]
    > {
      const rows = await executeRows<{
        key_id: string;
        sealed: string;
        id: number;
        token: 'accessToken' | 'refreshToken';
        users: number | string;
      }>(
        executor,
        sql`with tokens as (
              select id, split_part(gmail_oauth_token, '.', 2) as key_id, gmail_oauth_token as sealed,
                     'accessToken' as token
                from users where gmail_oauth_token is not null
              union all
              select id, split_part(gmail_refresh_token, '.', 2), gmail_refresh_token, 'refreshToken'
                from users where gmail_refresh_token is not null
            )
            select distinct on (key_id) key_id, sealed, id, token,
                   (select count(distinct id) from tokens same where same.key_id = tokens.key_id) as users
              from tokens order by key_id, id, token`,
      );
      return rows.map((r) => ({
        keyId: r.key_id,
        sealed: r.sealed,
        userId: Number(r.id),
        token: r.token,
        users: Number(r.users),
      }));
    },

    async countWithTokens(executor: Db = db): Promise<number> {
      const [row] = await executor
        .select({ count: sql<number>`count(*)::int` })
        .from(users)
        .where(or(isNotNull(users.gmailOauthToken), isNotNull(users.gmailRefreshToken)));
      return row?.count ?? 0;
    },

    async countSealedOutside({ keyId }: { keyId: string }, executor: Db = db): Promise<number> {
      const [row] = await executor
        .select({ count: sql<number>`count(*)::int` })
        .from(users)
        .where(sealedOutside(keyId));
      return row?.count ?? 0;
    },

    /** The next batch to re-seal, after `after` in id order (resumable: done rows no longer match). */
    async listSealedOutside(
      { keyId, after, limit }: { keyId: string; after: number; limit: number },
      executor: Db = db,
    ) {
      return executor
        .select({ id: users.id, accessToken: users.gmailOauthToken, refreshToken: users.gmailRefreshToken })
        .from(users)
        .where(and(gt(users.id, after), sealedOutside(keyId)))
        .orderBy(asc(users.id))
        .limit(limit);
    },

    /**
     * Replaces a user's tokens only if they are still `from`: a token the user changed meanwhile (a new
     * OAuth grant, a disconnect) is never overwritten with an older one.
     */
    async replaceSealedTokens(
      { id, from, to }: { id: number; from: SealedTokens; to: SealedTokens },
      executor: Db = db,
    ): Promise<boolean> {
      const rows = await executor
        .update(users)
        .set({ gmailOauthToken: to.accessToken, gmailRefreshToken: to.refreshToken })
        .where(
          and(
            eq(users.id, id),
            sql`${users.gmailOauthToken} is not distinct from ${from.accessToken}`,
            sql`${users.gmailRefreshToken} is not distinct from ${from.refreshToken}`,
          ),
        )
        .returning({ id: users.id });
      return rows.length > 0;
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
