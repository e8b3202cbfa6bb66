import { type AppServer, notFound } from 'groundwork-pg';
import { z } from 'zod';
import { ErrorBody, UserIdParams } from '../http.ts';
import type { GmailTokenVault } from './gmail-tokens.ts';
import type { UsersRepository } from './repository.ts';
import {
  GmailTokensPut,
  toPublicUser,
  UserCreate,
  UserList,
  UserListQuery,
  UserPublic,
  UserUpdate,
} from './schemas.ts';

const tags = ['users'];

export function registerUserRoutes(
  app: AppServer,
  { users, vault }: { users: UsersRepository; vault: GmailTokenVault },
): void {
  app.post(
    '/api/v1/users',
    {
      schema: { tags, body: UserCreate, response: { 201: UserPublic, 400: ErrorBody, 409: ErrorBody } },
    },
    async (request, reply) => {
      const row = await users.create({ email: request.body.email });
      return reply.status(201).send(toPublicUser(row));
    },
  );

  app.get(
    '/api/v1/users',
    { schema: { tags, querystring: UserListQuery, response: { 200: UserList, 400: ErrorBody } } },
    async (request) => {
      const { limit, after } = request.query;
      // One row past the page tells whether another page exists, so the last page says null.
      const rows = await users.listActive({ limit: limit + 1, after });
      const page = rows.slice(0, limit);
      return {
        items: page.map(toPublicUser),
        next_after: rows.length > limit ? page.at(-1)!.id : null,
      };
    },
  );

  app.get(
    '/api/v1/users/:id',
    { schema: { tags, params: UserIdParams, response: { 200: UserPublic, 400: ErrorBody, 404: ErrorBody } } },
    async (request) => {
      const row = await users.findActive({ id: request.params.id });
      if (!row) throw notFound('User');
      return toPublicUser(row);
    },
  );

  app.patch(
    '/api/v1/users/:id',
    {
      schema: {
        tags,
        params: UserIdParams,
        body: UserUpdate,
        response: { 200: UserPublic, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      const { telegram_id, telegram_username, onboarding_completed } = request.body;
      const row = await users.update({
        id: request.params.id,
        changes: {
          telegramId: telegram_id,
          telegramUsername: telegram_username,
          onboardingCompleted: onboarding_completed,
        },
      });
      if (!row) throw notFound('User');
      return toPublicUser(row);
    },
  );

  app.delete(
    '/api/v1/users/:id',
    { schema: { tags, params: UserIdParams, response: { 204: z.null(), 400: ErrorBody, 404: ErrorBody } } },
    async (request, reply) => {
      if (!(await users.deactivate({ id: request.params.id }))) throw notFound('User');
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/api/v1/users/:id/gmail-tokens',
    {
      schema: {
        tags,
        params: UserIdParams,
        body: GmailTokensPut,
        response: { 204: z.null(), 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
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
    '/api/v1/users/:id/gmail-tokens',
    { schema: { tags, params: UserIdParams, response: { 204: z.null(), 400: ErrorBody, 404: ErrorBody } } },
    async (request, reply) => {
      if (!(await vault.clear({ userId: request.params.id }))) throw notFound('User');
      return reply.status(204).send(null);
    },
  );
}
