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
  // Public routes read no credential, so they never scope rows.
  throw new HttpError(401, 'unauthorized', 'a Bearer credential is required');
}

/** Another user's row answers 404, as if it did not exist; operators pass. Ids compare as text (uuid or integer keys). */
export function ensureOwnUser(request: FastifyRequest, userId: string | number, entity = 'User'): void {
  const scope = rowScopeOf(request);
  if (!scope.all && scope.userId !== String(userId)) throw notFound(entity);
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
  if (identity.kind === 'user' && identity.via === 'jwt') {
    const own = claimValueOf(identity.claims, claim);
    if (own !== undefined && own === (claim === 'email' ? value.toLowerCase() : value)) return;
  }
  throw new HttpError(403, 'forbidden', `${field} must be the identity your token names`, [
    { field, message: 'must match your token' },
  ]);
}

/** A user id as rows hold it (uuid or integer keys). */
export type OwnerId = string | number;

/**
 * How an `own` route finds the user whose row the request names: a path parameter, a body field, or a
 * lookup (`undefined`: no such row, a 404). It runs after the request is validated, so values are parsed.
 */
export type Owner =
  | { param: string }
  | { body: string }
  | ((request: FastifyRequest) => OwnerId | undefined | Promise<OwnerId | undefined>);

function ownerOf(request: FastifyRequest, owner: Owner): OwnerId | undefined | Promise<OwnerId | undefined> {
  if (typeof owner === 'function') return owner(request);
  const [source, name] = 'param' in owner ? [request.params, owner.param] : [request.body, owner.body];
  return (source as Record<string, OwnerId | undefined> | undefined)?.[name];
}

/** The preHandler of an `own` route: a row that is missing or another user's answers 404 (`entity`). */
export function ownerCheck(owner: Owner, entity = 'User') {
  return async (request: FastifyRequest): Promise<void> => {
    const scope = rowScopeOf(request);
    if (scope.all) return;
    const ownerId = await ownerOf(request, owner);
    if (ownerId === undefined || scope.userId !== String(ownerId)) throw notFound(entity);
  };
}
