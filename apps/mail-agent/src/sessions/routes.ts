import { ensureOwnUser, errorResponses, notFound, type RoutesPlugin } from 'groundwork-pg';
import { UserIdParams } from '../http.ts';
import type { UsersRepository } from '../users/repository.ts';
import type { SessionsRepository } from './repository.ts';
import { SessionCreate, SessionList, SessionListQuery, SessionPublic, toPublicSession } from './schemas.ts';

const tags = ['sessions'];

/** A user's chat sessions, under `/users/:id/sessions`. */
export const sessionsRoutes: RoutesPlugin<{ sessions: SessionsRepository; users: UsersRepository }> = async (
  app,
  { sessions, users },
) => {
  app.post(
    '/:id/sessions',
    {
      schema: {
        tags,
        summary: 'Open a chat session for the caller',
        params: UserIdParams,
        body: SessionCreate,
        response: { 201: SessionPublic, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      ensureOwnUser(request, request.params.id);
      const row = await sessions.create({ userId: request.params.id, name: request.body.name });
      if (!row) throw notFound('User');
      return reply.status(201).send(toPublicSession(row));
    },
  );

  app.get(
    '/:id/sessions',
    {
      schema: {
        tags,
        summary: 'The caller’s chat sessions, newest first',
        params: UserIdParams,
        querystring: SessionListQuery,
        response: { 200: SessionList, ...errorResponses(404) },
      },
    },
    async (request) => {
      ensureOwnUser(request, request.params.id);
      // A deactivated user's sessions are kept with its row but, like the user, no longer shown.
      if (!(await users.findById({ id: request.params.id }))) throw notFound('User');
      const rows = await sessions.listForUser({ userId: request.params.id, limit: request.query.limit });
      return { items: rows.map(toPublicSession) };
    },
  );
};
