import {
  ensureOwnClaim,
  errorResponses,
  IdParams,
  notFound,
  ownRowRoutes,
  type RoutesPlugin,
} from 'groundwork-pg';
import type { BatchesRepository } from '../batches/repository.ts';
import { BatchList, BatchListQuery, toBatchPublic } from '../batches/schemas.ts';
import type { UsersRepository } from './repository.ts';
import { toUserPublic, UserCreate, UserPublic } from './schemas.ts';

export const usersRoutes: RoutesPlugin<{ users: UsersRepository; batches: BatchesRepository }> = async (
  app,
  { users, batches },
) => {
  app.post(
    '/',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        summary: 'Register the caller; cognitoSub must be the token’s subject',
        body: UserCreate,
        response: { 201: UserPublic, ...errorResponses(403, 409) },
      },
    },
    async (request, reply) => {
      ensureOwnClaim(request, { field: 'cognitoSub', value: request.body.cognitoSub });
      return reply.status(201).send(toUserPublic(await users.create(request.body)));
    },
  );

  ownRowRoutes(app, {
    tags: ['users'],
    response: { schema: UserPublic, from: toUserPublic },
    read: { summary: 'Read the caller (another user is a 404)', find: users.findById },
  });

  app.get(
    '/:id/batches',
    {
      config: { auth: 'own', owner: { param: 'id' } },
      schema: {
        tags: ['batches'],
        summary: "A page of the caller's batches, newest first, archived ones excluded",
        params: IdParams,
        querystring: BatchListQuery,
        response: { 200: BatchList, ...errorResponses(404) },
      },
    },
    async (request) => {
      const userId = request.params.id;
      if (!(await users.findById({ id: userId }))) throw notFound('User');
      const [rows, count] = await Promise.all([
        batches.listByUser({ userId, ...request.query }),
        batches.countByUser({ userId }),
      ]);
      return { data: rows.map(toBatchPublic), count };
    },
  );
};
