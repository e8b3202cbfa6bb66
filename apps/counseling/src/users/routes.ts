import { hashPassword, notFound, type RoutesPlugin } from 'groundwork-pg';
import type { UsersRepository } from './repository.ts';
import {
  toPublicUser,
  UserCreate,
  UserId,
  UserList,
  UserListQuery,
  UserPublic,
  UserUpdate,
} from './schemas.ts';

export const usersRoutes: RoutesPlugin<{ users: UsersRepository }> = async (app, { users }) => {
  const tags = ['users'];

  app.post(
    '',
    {
      schema: {
        tags,
        summary: 'Create a user',
        body: UserCreate,
        response: { 201: UserPublic },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      // One INSERT: it either stores the whole row or nothing (a duplicate is the database's 23505 -> 409).
      const row = await users.create({ username, passwordHash: await hashPassword(password) });
      return reply.status(201).send(toPublicUser(row));
    },
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Get a user',
        params: UserId,
        response: { 200: UserPublic },
      },
    },
    async (request) => {
      const row = await users.findById({ id: request.params.id });
      if (!row) throw notFound('User');
      return toPublicUser(row);
    },
  );

  app.get(
    '',
    {
      schema: {
        tags,
        summary: 'List users, newest first',
        querystring: UserListQuery,
        response: { 200: UserList },
      },
    },
    async (request) => {
      const { rows, total } = await users.list(request.query);
      return { data: rows.map(toPublicUser), count: total };
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Block or unblock a user',
        params: UserId,
        body: UserUpdate,
        response: { 200: UserPublic },
      },
    },
    async (request) => {
      const row = await users.setBlocked({ id: request.params.id, isBlocked: request.body.is_blocked });
      if (!row) throw notFound('User');
      return toPublicUser(row);
    },
  );
};
