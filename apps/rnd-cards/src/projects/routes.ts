import { type AppServer, HttpError, notFound } from 'groundwork-pg';
import { API, ErrorBody, IdParams } from '../api.ts';
import type { BatchesRepository } from '../batches/repository.ts';
import type { ProjectsRepository } from './repository.ts';
import { ProjectCreate, ProjectPublic, ProjectUpdate, toProjectPublic } from './schemas.ts';

export function registerProjectsRoutes(
  app: AppServer,
  { batches, projects }: { batches: BatchesRepository; projects: ProjectsRepository },
): void {
  app.post(
    `${API}/batches/:id/projects`,
    {
      // A batch deleted between the check and the insert is still a 404.
      config: { foreignKeyStatus: 404 },
      schema: {
        tags: ['projects'],
        summary: 'Add a project to a batch at a row number',
        params: IdParams,
        body: ProjectCreate,
        response: { 201: ProjectPublic, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
      },
    },
    async (request, reply) => {
      const batch = await batches.getById(request.params);
      if (!batch) throw notFound('Batch');
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

  app.patch(
    `${API}/projects/:id`,
    {
      schema: {
        tags: ['projects'],
        summary: "Change a project's status and/or quality score (the batch's aggregates follow)",
        params: IdParams,
        body: ProjectUpdate,
        response: { 200: ProjectPublic, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const project = await projects.update({ id: request.params.id, ...request.body });
      if (!project) throw notFound('Project');
      return toProjectPublic(project);
    },
  );
}
