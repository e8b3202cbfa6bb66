import { errorResponses, HttpError, IdParams, notFound, type RoutesPlugin } from 'groundwork-pg';
import type { ProjectsRepository } from '../projects/repository.ts';
import { ProjectCreate, ProjectPublic, toProjectPublic } from '../projects/schemas.ts';
import type { BatchesRepository } from './repository.ts';
import { BatchCreate, BatchPublic, BatchStatusUpdate, toBatchPublic } from './schemas.ts';

export const batchesRoutes: RoutesPlugin<{
  batches: BatchesRepository;
  projects: ProjectsRepository;
}> = async (app, { batches, projects }) => {
  /** The batch in the path, when it is the caller's (or the caller is an operator); else a 404. */
  const ownBatch = {
    auth: 'own',
    owner: { param: 'id', lookup: async (id: string) => (await batches.findById({ id }))?.userId },
    entity: 'Batch',
  } as const;
  async function batchOf(id: string) {
    const batch = await batches.findById({ id });
    if (!batch) throw notFound('Batch');
    return batch;
  }

  app.post(
    '/',
    {
      // The user is named in the body; an unknown one is still "not found", not a conflict.
      config: { auth: 'own', owner: { body: 'userId' }, foreignKeyStatus: 404 },
      schema: {
        tags: ['batches'],
        summary: 'Create a batch of 1 to 20 projects for the caller',
        body: BatchCreate,
        response: { 201: BatchPublic },
      },
    },
    async (request, reply) => {
      return reply.status(201).send(toBatchPublic(await batches.create(request.body)));
    },
  );

  app.get(
    '/:id',
    {
      config: ownBatch,
      schema: {
        tags: ['batches'],
        summary: 'Read a batch with its aggregates (completed projects, average quality score)',
        params: IdParams,
        response: { 200: BatchPublic, ...errorResponses(404) },
      },
    },
    async (request) => toBatchPublic(await batchOf(request.params.id)),
  );

  app.patch(
    '/:id/status',
    {
      config: ownBatch,
      schema: {
        tags: ['batches'],
        summary: "Change a batch's status",
        params: IdParams,
        body: BatchStatusUpdate,
        response: { 200: BatchPublic, ...errorResponses(404) },
      },
    },
    async (request) => {
      // A batch never changes owner, so the check before the write is enough.
      const batch = await batches.updateStatus({ id: request.params.id, status: request.body.status });
      if (!batch) throw notFound('Batch');
      return toBatchPublic(batch);
    },
  );

  app.post(
    '/:id/projects',
    {
      // A batch deleted between the check and the insert is still a 404.
      config: { ...ownBatch, foreignKeyStatus: 404 },
      schema: {
        tags: ['projects'],
        summary: 'Add a project to a batch at a row number',
        params: IdParams,
        body: ProjectCreate,
        response: { 201: ProjectPublic, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) => {
      const batch = await batchOf(request.params.id);
      // Row numbers are positions 1..totalProjects, so with (batch_id, row_number) unique a batch
      // never holds more projects than it declared.
      if (request.body.rowNumber > batch.totalProjects) {
        const message = `must be at most the batch's totalProjects (${batch.totalProjects})`;
        throw new HttpError(422, 'row_number_out_of_range', `rowNumber ${message}`, [
          { field: 'rowNumber', message },
        ]);
      }
      const project = await projects.add({ batchId: batch.id, ...request.body });
      return reply.status(201).send(toProjectPublic(project));
    },
  );
};
