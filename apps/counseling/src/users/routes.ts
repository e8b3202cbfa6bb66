import {
  errorResponses,
  hashPassword,
  IdParams,
  notFound,
  ownRowRoutes,
  type RoutesPlugin,
  registrationRateLimit,
} from 'groundwork-pg';
import type { UsersRepository } from './repository.ts';
import { toUserPublic, UserCreate, UserList, UserListQuery, UserPublic, UserUpdate } from './schemas.ts';

export const usersRoutes: RoutesPlugin<{ users: UsersRepository }> = async (app, { users }) => {
  const tags = ['users'];

  app.post(
    '/',
    {
      // Signing up needs no account; the per-IP limit bounds the argon2 work a client can ask for.
      config: { auth: 'public' },
      preHandler: registrationRateLimit(),
      schema: {
        tags,
        summary: 'Create a user',
        body: UserCreate,
        response: { 201: UserPublic, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      // One INSERT: it either stores the whole row or nothing (a duplicate is the database's 23505 -> 409).
      const row = await users.create({ username, passwordHash: await hashPassword(password) });
      return reply.status(201).send(toUserPublic(row));
    },
  );

  ownRowRoutes(app, {
    tags,
    response: { schema: UserPublic, from: toUserPublic },
    read: { summary: 'Get a user (your own)', find: users.findById },
  });

  app.get(
    '/',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'List users, newest first (operators only)',
        querystring: UserListQuery,
        response: { 200: UserList },
      },
    },
    async (request) => {
      const { rows, total } = await users.list(request.query);
      return { data: rows.map(toUserPublic), count: total };
    },
  );

  // Blocking is the platform's decision about a user, never the user's own: operators only.
  app.patch(
    '/:id',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Block or unblock a user; blocking ends their sessions (operators only)',
        params: IdParams,
        body: UserUpdate,
        response: { 200: UserPublic, ...errorResponses(404) },
      },
    },
    async (request) => {
      const row = await users.setBlocked({ id: request.params.id, isBlocked: request.body.is_blocked });
      if (!row) throw notFound('User');
      return toUserPublic(row);
    },
  );
};
