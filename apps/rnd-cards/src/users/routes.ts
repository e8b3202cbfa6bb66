import { type AppServer, notFound } from 'groundwork-pg';
import { API, ErrorBody, IdParams } from '../api.ts';
import type { UsersRepository } from './repository.ts';
import { toUserPublic, UserCreate, UserPublic } from './schemas.ts';

export function registerUsersRoutes(app: AppServer, { users }: { users: UsersRepository }): void {
  app.post(
    `${API}/users`,
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        body: UserCreate,
        response: { 201: UserPublic, 400: ErrorBody, 409: ErrorBody },
      },
    },
    async (request, reply) => reply.status(201).send(toUserPublic(await users.create(request.body))),
  );

  app.get(
    `${API}/users/:id`,
    {
      schema: {
        tags: ['users'],
        summary: 'Read a user',
        params: IdParams,
        response: { 200: UserPublic, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const user = await users.getById(request.params);
      if (!user) throw notFound('User');
      return toUserPublic(user);
    },
  );
}
