import { eq, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '../database/open.ts';
import { prepareQuery } from '../database/prepared.ts';

/**
 * How a `jwt` app finds the user row a token names: the row whose `match` column equals the token's `claim`.
 * `sub` is the issuer's user id (Clerk, Cognito); `email` is a Google account's address, taken only when the
 * token says `email_verified: true`.
 */
export interface TokenUsers {
  id: PgColumn;
  match: PgColumn;
  claim?: 'sub' | 'email';
}

/** The claim value a token identifies its user by, or undefined when it carries none usable. */
export function claimValueOf(
  claims: Record<string, unknown>,
  claim: TokenUsers['claim'] = 'sub',
): string | undefined {
  if (claim === 'sub') return typeof claims.sub === 'string' ? claims.sub : undefined;
  return claims.email_verified === true && typeof claims.email === 'string'
    ? claims.email.toLowerCase()
    : undefined;
}

/**
 * One indexed lookup per request: the user id for verified claims, undefined before the user registers.
 * Nothing is cached: a user deleted a moment ago is not found on the next request. The query is built once.
 */
export function tokenUserLookup(db: Database, users: TokenUsers) {
  const byClaim = prepareQuery(
    db,
    'groundwork_token_user',
    db
      .select({ id: users.id })
      .from(users.id.table)
      .where(eq(users.match, sql.placeholder('value')))
      .limit(1),
  );
  return async (claims: Record<string, unknown>): Promise<string | undefined> => {
    const value = claimValueOf(claims, users.claim);
    if (value === undefined) return undefined;
    const [row] = await byClaim.execute({ value });
    // Ids compare as text wherever they come from (uuid or integer keys).
    return row === undefined ? undefined : String(row.id);
  };
}
