import { type AppServer, notFound } from 'groundwork-pg';
import { ErrorBody, UserIdParams } from '../http.ts';
import type { UsersRepository } from '../users/repository.ts';
import type { SessionsRepository } from './repository.ts';
import { SessionCreate, SessionList, SessionListQuery, SessionPublic, toPublicSession } from './schemas.ts';

const tags = ['sessions'];

export function registerSessionRoutes(
  app: AppServer,
  { sessions, users }: { sessions: SessionsRepository; users: UsersRepository },
): void {
  app.post(
    '/api/v1/users/:id/sessions',
    {
      schema: {
        tags,
        params: UserIdParams,
        body: SessionCreate,
        response: { 201: SessionPublic, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const row = await sessions.create({ userId: request.params.id, name: request.body.name });
      if (!row) throw notFound('User');
      return reply.status(201).send(toPublicSession(row));
    },
  );

  app.get(
    '/api/v1/users/:id/sessions',
    {
      schema: {
        tags,
        params: UserIdParams,
        querystring: SessionListQuery,
        response: { 200: SessionList, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      // A deactivated user's sessions are kept with its row but, like the user, no longer shown.
      if (!(await users.findActive({ id: request.params.id }))) throw notFound('User');
      const rows = await sessions.listForUser({ userId: request.params.id, limit: request.query.limit });
      return { items: rows.map(toPublicSession) };
    },
  );
}
