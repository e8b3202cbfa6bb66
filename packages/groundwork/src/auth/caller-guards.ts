import { sql } from 'drizzle-orm';
import type { CallerGuard } from '../database/callers.ts';
import type { AuthSessionsTable } from './sessions.ts';
import type { TokenUsers } from './token-users.ts';

/**
 * The guards of `inQuery` routes (database/callers.ts). Each pins the row's owner to the route's `owner`
 * parameter (`groundwork_owner`), so rows found mean what the route's ownership check means: the caller is
 * that user. Placeholder names are prefixed so they cannot meet a query's own.
 */

/** A password app's: the owner is the user of a live session (unexpired, not idle) with the token's digest. */
export function sessionGuard(table: AuthSessionsTable): CallerGuard {
  return {
    name: 'session',
    condition: (owner, v) => {
      const live = sql`${table.tokenDigest} = ${v.groundwork_digest} and ${table.expiresAt} > ${v.groundwork_now}`;
      const active = sql`${table.lastSeenAt} > ${v.groundwork_idle_since}`;
      const user = sql`select ${table.userId} from ${table} where ${live} and ${active}`;
      return sql`(${owner} = ${v.groundwork_owner} and ${owner} = (${user}))`;
    },
  };
}

/** A password app's guard, with its placeholders' values for a token digest, and what a confirmed session does. */
export interface SessionGuard {
  readonly guard: CallerGuard;
  values(digest: string): Record<string, unknown>;
  /**
   * A guarded statement confirmed the session: its last_seen_at moves on (at most once a minute); the write's
   * promise, or undefined when there is none to make.
   */
  seen(digest: string): Promise<void> | undefined;
}

/** The id of the user whose `match` column holds `claim`. */
const userOf = (users: TokenUsers, claim: unknown) =>
  sql`select ${users.id} from ${users.id.table} where ${users.match} = ${claim}`;

/** A `jwt` app's guard, with the claim its users are matched by. */
export interface TokenGuard extends CallerGuard {
  readonly claim: TokenUsers['claim'];
}

/**
 * A `jwt` app's: the owner is the user whose `match` column holds the token's claim (`groundwork_claim`);
 * on the users table itself that is the row's own column, with no subquery.
 */
export function tokenGuard(users: TokenUsers): TokenGuard {
  return {
    name: 'token',
    claim: users.claim,
    condition: (owner, v) =>
      owner === users.id
        ? sql`(${owner} = ${v.groundwork_owner} and ${users.match} = ${v.groundwork_claim})`
        : sql`(${owner} = ${v.groundwork_owner} and ${owner} = (${userOf(users, v.groundwork_claim)}))`,
  };
}
