import type { FastifyRequest } from 'fastify';
import { HttpError, notFound } from '../http/errors.ts';
import { claimValueOf, type TokenUsers } from './token-users.ts';

/**
 * Whose rows a request may touch: `all` for operators (and for everyone in open development mode), else
 * only the caller's own user's, `userId` undefined when a token's user has not registered yet.
 */
export type RowScope = { all: true } | { all: false; userId: string | undefined };

export function rowScopeOf(request: FastifyRequest): RowScope {
  const { identity } = request;
  if (identity.kind === 'admin') return { all: true };
  if (identity.kind === 'user') return { all: false, userId: identity.userId };
  if (identity.kind === 'pending') {
    // A programming error: the route's statement checks its caller (`request.caller`), not the handler.
    throw new Error('an inQuery route checks its caller in its statement; it has no row scope to read');
  }
  // Public routes read no credential, so they never scope rows.
  throw new HttpError(401, 'unauthorized', 'a Bearer credential is required');
}

/** Another user's row answers 404, as if it did not exist; operators pass. Ids compare as text (uuid or integer keys). */
export function ensureOwnUser(request: FastifyRequest, userId: string | number, entity = 'User'): void {
  const scope = rowScopeOf(request);
  if (!scope.all && scope.userId !== String(userId)) throw notFound(entity);
}

/** Emails compare in one case, as they are stored. */
function ownClaim(claims: Record<string, unknown>, claim: TokenUsers['claim'], value: string): boolean {
  const own = claimValueOf(claims, claim);
  return own !== undefined && own === (claim === 'email' ? value.toLowerCase() : value);
}

/**
 * Registration in a `jwt` app: the body's `field` must hold the caller's own token claim (`sub`, or the
 * verified `email`), so no one registers an account under someone else's identity. Operators pass.
 */
export function ensureOwnClaim(
  request: FastifyRequest,
  { field, value, claim = 'sub' }: { field: string; value: string; claim?: TokenUsers['claim'] },
): void {
  const { identity } = request;
  if (identity.kind === 'admin') return;
  if (identity.kind === 'user' && identity.via === 'jwt' && ownClaim(identity.claims, claim, value)) return;
  throw new HttpError(403, 'forbidden', `${field} must be the identity your token names`, [
    { field, message: 'must match your token' },
  ]);
}

/** A user id as rows hold it (uuid or integer keys). */
export type OwnerId = string | number;

/**
 * How an `own` route finds the user whose row the request names: a path parameter or a body field holding
 * the user's id; with `lookup`, naming a row whose owner `lookup` reads (`undefined`: no such row); with
 * `claim`, holding the caller's own token claim (a `jwt` app's `sub` or verified `email`), compared without a
 * read. It runs once the request is validated, so the value is the parsed one.
 *
 * `inQuery` (a path parameter without `lookup` or `claim`): the route's own hot query carries the check
 * (`request.caller`, see database/callers.ts), so a user's request costs that one statement; the session or
 * token user is not read before it. A statement that finds no row, or a handler that runs none, leaves the
 * foundation one read before the response: 401 for a dead credential, 404 for another user's row. A write
 * route that answers a success without a guarded statement is a 500.
 */
export type Owner = ({ param: string; inQuery?: boolean } | { body: string; inQuery?: never }) &
  (
    | { lookup?: (value: string) => Promise<OwnerId | undefined>; claim?: never }
    | { claim: TokenUsers['claim']; lookup?: never }
  );

/** The value the request names its owner by (a path parameter or body field), as parsed. */
export function ownerValue(
  request: FastifyRequest,
  owner: { param: string } | { body: string },
): OwnerId | undefined {
  const [source, name] = 'param' in owner ? [request.params, owner.param] : [request.body, owner.body];
  return (source as Record<string, OwnerId | undefined> | undefined)?.[name];
}

function isOwner(
  request: FastifyRequest,
  owner: Owner,
  userId: string | undefined,
): Promise<boolean> | boolean {
  const value = ownerValue(request, owner);
  if (value === undefined) return false;
  if (owner.claim) {
    const { identity } = request;
    return (
      identity.kind === 'user' &&
      identity.via === 'jwt' &&
      ownClaim(identity.claims, owner.claim, String(value))
    );
  }
  if (!owner.lookup) return userId === String(value);
  return owner.lookup(String(value)).then((ownerId) => ownerId !== undefined && userId === String(ownerId));
}

/** The preHandler of an `own` route: a row that is missing or another user's answers 404 (`entity`). */
export function ownerCheck(owner: Owner, entity = 'User') {
  return async (request: FastifyRequest): Promise<void> => {
    const scope = rowScopeOf(request);
    if (!scope.all && !(await isOwner(request, owner, scope.userId))) throw notFound(entity);
  };
}
