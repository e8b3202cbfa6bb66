import { errorResponses, IntegerIdParams, notFound, type RoutesPlugin } from 'groundwork-pg';
import type { UsersRepository } from '../users/repository.ts';
import type { SessionsRepository } from './repository.ts';
import { SessionCreate, SessionList, SessionListQuery, SessionPublic, toSessionPublic } from './schemas.ts';

const tags = ['sessions'];
const own = { auth: 'own', owner: { param: 'id' } } as const;

/** A user's chat sessions, under `/users/:id/sessions`. */
export const sessionsRoutes: RoutesPlugin<{ sessions: SessionsRepository; users: UsersRepository }> = async (
  app,
  { sessions, users },
) => {
  app.post(
    '/:id/sessions',
    {
      config: own,
      schema: {
        tags,
        summary: 'Open a chat session for the caller',
        params: IntegerIdParams,
        body: SessionCreate,
        response: { 201: SessionPublic, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const row = await sessions.create({ userId: request.params.id, name: request.body.name });
      if (!row) throw notFound('User');
      return reply.status(201).send(toSessionPublic(row));
    },
  );

  app.get(
    '/:id/sessions',
    {
      config: own,
      schema: {
        tags,
        summary: 'The caller’s chat sessions, newest first',
        params: IntegerIdParams,
        querystring: SessionListQuery,
        response: { 200: SessionList, ...errorResponses(404) },
      },
    },
    async (request) => {
      // A deactivated user's sessions are kept with its row but, like the user, no longer shown.
      if (!(await users.findById({ id: request.params.id }))) throw notFound('User');
      const rows = await sessions.listForUser({ userId: request.params.id, limit: request.query.limit });
      return { items: rows.map(toSessionPublic) };
    },
  );
};
