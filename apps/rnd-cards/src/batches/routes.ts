import { type AppServer, notFound } from 'groundwork-pg';
import { API, ErrorBody, IdParams } from '../api.ts';
import type { UsersRepository } from '../users/repository.ts';
import type { BatchesRepository } from './repository.ts';
import {
  BatchCreate,
  BatchList,
  BatchListQuery,
  BatchPublic,
  BatchStatusUpdate,
  toBatchPublic,
} from './schemas.ts';

export function registerBatchesRoutes(
  app: AppServer,
  { users, batches }: { users: UsersRepository; batches: BatchesRepository },
): void {
  app.post(
    `${API}/batches`,
    {
      // The user is named in the body; an unknown one is still "not found", not a conflict.
      config: { foreignKeyStatus: 404 },
      schema: {
        tags: ['batches'],
        summary: 'Create a batch of 1 to 20 projects for a user',
        body: BatchCreate,
        response: { 201: BatchPublic, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => reply.status(201).send(toBatchPublic(await batches.create(request.body))),
  );

  app.get(
    `${API}/batches/:id`,
    {
      schema: {
        tags: ['batches'],
        summary: 'Read a batch with its aggregates (completed projects, average quality score)',
        params: IdParams,
        response: { 200: BatchPublic, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const batch = await batches.getById(request.params);
      if (!batch) throw notFound('Batch');
      return toBatchPublic(batch);
    },
  );

  app.patch(
    `${API}/batches/:id/status`,
    {
      schema: {
        tags: ['batches'],
        summary: "Change a batch's status",
        params: IdParams,
        body: BatchStatusUpdate,
        response: { 200: BatchPublic, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const batch = await batches.updateStatus({ id: request.params.id, status: request.body.status });
      if (!batch) throw notFound('Batch');
      return toBatchPublic(batch);
    },
  );

  app.get(
    `${API}/users/:id/batches`,
    {
      schema: {
        tags: ['batches'],
        summary: "A page of the user's batches, newest first, archived ones excluded",
        params: IdParams,
        querystring: BatchListQuery,
        response: { 200: BatchList, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const userId = request.params.id;
      if (!(await users.getById({ id: userId }))) throw notFound('User');
      const [rows, count] = await Promise.all([
        batches.listByUser({ userId, ...request.query }),
        batches.countByUser({ userId }),
      ]);
      return { data: rows.map(toBatchPublic), count };
    },
  );
}
