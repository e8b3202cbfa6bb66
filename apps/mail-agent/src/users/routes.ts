import {
  ensureOwnClaim,
  errorResponses,
  IntegerIdParams,
  notFound,
  ownRowRoutes,
  type RoutesPlugin,
  toKeysetPage,
} from 'groundwork-pg';
import { z } from 'zod';
import type { GmailTokenVault } from './gmail-tokens.ts';
import type { UsersRepository } from './repository.ts';
import {
  GmailTokensPut,
  toUserPublic,
  UserCreate,
  UserList,
  UserListQuery,
  UserPublic,
  UserUpdate,
} from './schemas.ts';

const tags = ['users'];
/** The user in the path, that user or an operator. */
const own = { auth: 'own', owner: { param: 'id' } } as const;

export const usersRoutes: RoutesPlugin<{ users: UsersRepository; vault: GmailTokenVault }> = async (
  app,
  { users, vault },
) => {
  app.post(
    '/',
    {
      config: { auth: 'user' },
      schema: {
        tags,
        summary: 'Register the caller; email must be the token’s verified email',
        body: UserCreate,
        response: { 201: UserPublic, ...errorResponses(403, 409) },
      },
    },
    async (request, reply) => {
      // Registration: a Google account registers only its own (verified) address; operators any.
      ensureOwnClaim(request, { field: 'email', value: request.body.email, claim: 'email' });
      const row = await users.create({ email: request.body.email });
      return reply.status(201).send(toUserPublic(row));
    },
  );

  app.get(
    '/',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'List active users by id (operators only)',
        querystring: UserListQuery,
        response: { 200: UserList },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const rows = await users.listActive({ limit: limit + 1, after });
      return toKeysetPage(rows, limit, (row) => row.id, toUserPublic);
    },
  );

  ownRowRoutes(app, {
    tags,
    params: IntegerIdParams,
    response: { schema: UserPublic, from: toUserPublic },
    read: { summary: 'Read the caller (another user is a 404)', find: users.findById },
    update: {
      summary: 'Change the caller’s Telegram link or onboarding state',
      body: UserUpdate,
      statuses: [409],
      apply: (key, { telegram_id, telegram_username, onboarding_completed }) =>
        users.update({
          ...key,
          changes: {
            telegramId: telegram_id,
            telegramUsername: telegram_username,
            onboardingCompleted: onboarding_completed,
          },
        }),
    },
    remove: { summary: 'Deactivate the caller (their rows are kept)', remove: users.deactivate },
  });

  app.put(
    '/:id/gmail-tokens',
    {
      config: own,
      schema: {
        tags,
        summary: 'Store the caller’s Gmail tokens, sealed at rest',
        params: IntegerIdParams,
        body: GmailTokensPut,
        response: { 204: z.null(), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { access_token, refresh_token } = request.body;
      const stored = await vault.store({
        userId: request.params.id,
        tokens: { accessToken: access_token, refreshToken: refresh_token },
      });
      if (!stored) throw notFound('User');
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/:id/gmail-tokens',
    {
      config: own,
      schema: {
        tags,
        summary: 'Forget the caller’s Gmail tokens',
        params: IntegerIdParams,
        response: { 204: z.null(), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      if (!(await vault.clear({ userId: request.params.id }))) throw notFound('User');
      return reply.status(204).send(null);
    },
  );
};
