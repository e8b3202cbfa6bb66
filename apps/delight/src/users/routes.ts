import {
  ensureOwnClaim,
  errorResponses,
  IdParams,
  notFound,
  ownRowRoutes,
  type RoutesPlugin,
} from 'groundwork-pg';
import type { UsersRepository } from './repository.ts';
import {
  ClerkIdParams,
  PreferencesPublic,
  PreferencesReplace,
  UserCreate,
  UserPublic,
  UserWithPreferences,
} from './schemas.ts';

export const usersRoutes: RoutesPlugin<{ users: UsersRepository }> = async (app, { users }) => {
  app.post(
    '/',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        summary:
          'Register the caller; clerk_user_id must be the token’s subject (409 when already registered)',
        body: UserCreate,
        response: { 201: UserPublic, ...errorResponses(403, 409) },
      },
    },
    async (request, reply) => {
      ensureOwnClaim(request, { field: 'clerk_user_id', value: request.body.clerk_user_id });
      return reply.status(201).send(await users.create({ user: request.body }));
    },
  );

  app.get(
    '/by-clerk-id/:clerkUserId',
    {
      // The Clerk id is the token's subject: another user's answers 404 without a read.
      config: { auth: 'own', owner: { param: 'clerkUserId', claim: 'sub' } },
      schema: {
        tags: ['users'],
        summary: 'The caller with their preferences (null until set), in one query; another user is a 404',
        params: ClerkIdParams,
        response: { 200: UserWithPreferences, ...errorResponses(404) },
      },
    },
    async (request) => {
      const user = await users.findByClerkId({ clerkUserId: request.params.clerkUserId });
      if (!user) throw notFound('User');
      return user;
    },
  );

  app.put(
    '/:id/preferences',
    {
      // The user is named in the URL: a foreign-key miss means "no such user", a 404.
      config: { auth: 'own', owner: { param: 'id' }, foreignKeyStatus: 404 },
      schema: {
        tags: ['users'],
        summary: 'Create (201) or replace (200) the caller’s preferences; omitted fields reset to defaults',
        params: IdParams,
        body: PreferencesReplace,
        response: { 200: PreferencesPublic, 201: PreferencesPublic },
      },
    },
    async (request, reply) => {
      const { preferences, created } = await users.replacePreferences({
        userId: request.params.id,
        preferences: request.body,
      });
      return reply.status(created ? 201 : 200).send(preferences);
    },
  );

  ownRowRoutes(app, {
    tags: ['users'],
    remove: {
      summary: 'Delete the caller (operators: any user); the database cascades to their preferences',
      remove: users.delete,
    },
  });
};
