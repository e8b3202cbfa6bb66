import { ensureOwnClaim, errorResponses, ownRowRoutes, type RoutesPlugin } from 'groundwork-pg';
import type { UsersRepository } from './repository.ts';
import { toUserPublic, UserCreate, UserList, UserListQuery, UserPublic, UserUpdate } from './schemas.ts';

const tags = ['users'];

export const usersRoutes: RoutesPlugin<{ users: UsersRepository }> = async (app, { users }) => {
  app.post(
    '/',
    {
      config: { auth: 'user' },
      schema: {
        tags,
        summary: 'Register the token holder',
        body: UserCreate,
        // The statuses this code answers; the foundation adds its own (400, 401, 413, 415, 503).
        response: { 201: UserPublic, ...errorResponses(403, 409) },
      },
    },
    async (request, reply) => {
      const { subject, email, display_name } = request.body;
      ensureOwnClaim(request, { field: 'subject', value: subject });
      const row = await users.create({ subject, email, displayName: display_name });
      return reply.status(201).send(toUserPublic(row));
    },
  );

  app.get(
    '/',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Every user, newest first',
        querystring: UserListQuery,
        response: { 200: UserList },
      },
    },
    async (request) => {
      const { rows, count } = await users.list(request.query);
      return { data: rows.map(toUserPublic), count };
    },
  );

  // The user in the path: that user, or an operator; anyone else is told it does not exist (404).
  ownRowRoutes(app, {
    tags,
    response: { schema: UserPublic, from: toUserPublic },
    read: { summary: 'One user', find: users.findById },
    update: {
      summary: 'Change the display name',
      body: UserUpdate,
      apply: (key, body) => users.update({ ...key, changes: { displayName: body.display_name } }),
    },
    remove: { summary: 'Delete the user', remove: users.remove },
  });
};
