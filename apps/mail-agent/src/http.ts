import { notFound, rowScopeOf } from 'groundwork-pg';
import { z } from 'zod';

/** Users have integer identity ids; anything else in the path is a 400 naming `id`. */
export const UserIdParams = z.object({
  id: z.coerce.number().int().min(1).max(2_147_483_647),
});

/**
 * 404, as if missing, unless the caller is user `id` or an operator. Compared as text: the foundation types
 * `identity.userId` as a string but its token lookup returns this app's integer `users.id` as a number, so
 * `ensureOwnUser` would refuse every user their own rows.
 */
export function ensureOwnUserId(request: Parameters<typeof rowScopeOf>[0], id: number): void {
  const scope = rowScopeOf(request);
  if (!scope.all && (scope.userId === undefined || String(scope.userId) !== String(id)))
    throw notFound('User');
}
