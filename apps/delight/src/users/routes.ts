import { type AppServer, notFound } from 'groundwork-pg';
import { z } from 'zod';
import type { UsersRepository } from './repository.ts';
import {
  ClerkIdParams,
  PreferencesPublic,
  PreferencesReplace,
  UserCreate,
  UserIdParams,
  UserPublic,
  UserWithPreferences,
} from './schemas.ts';

export async function usersRoutes(app: AppServer, { users }: { users: UsersRepository }): Promise<void> {
  app.post(
    '/api/v1/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user from their Clerk id (409 when the Clerk id is already registered)',
        body: UserCreate,
        response: { 201: UserPublic },
      },
    },
    async (request, reply) => reply.status(201).send(await users.create({ user: request.body })),
  );

  app.get(
    '/api/v1/users/by-clerk-id/:clerkUserId',
    {
      schema: {
        tags: ['users'],
        summary: 'A user with their preferences (null until set), in one query',
        params: ClerkIdParams,
        response: { 200: UserWithPreferences },
      },
    },
    async (request) => {
      const user = await users.findByClerkId({ clerkUserId: request.params.clerkUserId });
      if (!user) throw notFound('User');
      return user;
    },
  );

  app.put(
    '/api/v1/users/:id/preferences',
    {
      // The user is named in the URL: a foreign-key miss means "no such user", a 404.
      config: { foreignKeyStatus: 404 },
      schema: {
        tags: ['users'],
        summary: 'Create (201) or replace (200) the user’s preferences; omitted fields reset to defaults',
        params: UserIdParams,
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

  app.delete(
    '/api/v1/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Delete a user; the database cascades the delete to their preferences',
        params: UserIdParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      if (!(await users.delete({ id: request.params.id }))) throw notFound('User');
      return reply.status(204).send(null);
    },
  );
}
