import { ensureOwnClaim, errorResponses, IdParams, notFound, type RoutesPlugin } from 'groundwork-pg';
import { z } from 'zod';
import type { UsersRepository } from './repository.ts';
import { toUserPublic, UserCreate, UserList, UserListQuery, UserPublic, UserUpdate } from './schemas.ts';

const tags = ['users'];
/** The user in the path: that user, or an operator; anyone else is told it does not exist (404). */
const own = { auth: 'own', owner: { param: 'id' } } as const;
/** The same, checked in the route's own statement: `request.caller` goes to the repository's hot query. */
const ownInQuery = { auth: 'own', owner: { param: 'id', inQuery: true } } as const;

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

  app.get(
    '/:id',
    {
      config: ownInQuery,
      schema: {
        tags,
        summary: 'One user',
        params: IdParams,
        response: { 200: UserPublic, ...errorResponses(404) },
      },
    },
    async (request) => {
      const row = await users.findById({ id: request.params.id, caller: request.caller });
      if (!row) throw notFound('User');
      return toUserPublic(row);
    },
  );

  app.patch(
    '/:id',
    {
      config: ownInQuery,
      schema: {
        tags,
        summary: 'Change the display name',
        params: IdParams,
        body: UserUpdate,
        response: { 200: UserPublic, ...errorResponses(404) },
      },
    },
    async (request) => {
      const changes = { displayName: request.body.display_name };
      const row = await users.update({ id: request.params.id, changes, caller: request.caller });
      if (!row) throw notFound('User');
      return toUserPublic(row);
    },
  );

  app.delete(
    '/:id',
    {
      config: own,
      schema: {
        tags,
        summary: 'Delete the user',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      if (!(await users.remove(request.params))) throw notFound('User');
      return reply.status(204).send(null);
    },
  );
};
