import { ensureOwnUser, errorResponses, notFound, type RoutesPlugin } from 'groundwork-pg';
import { IdParams } from '../api.ts';
import type { ProjectsRepository } from './repository.ts';
import { ProjectPublic, ProjectUpdate, toProjectPublic } from './schemas.ts';

export const projectsRoutes: RoutesPlugin<{ projects: ProjectsRepository }> = async (app, { projects }) => {
  app.patch(
    '/:id',
    {
      schema: {
        tags: ['projects'],
        summary: "Change a project's status and/or quality score (the batch's aggregates follow)",
        params: IdParams,
        body: ProjectUpdate,
        response: { 200: ProjectPublic, ...errorResponses(404) },
      },
    },
    async (request) => {
      // Whose it is comes from its batch, read before anything is written.
      const ownerId = await projects.findOwnerId(request.params);
      if (!ownerId) throw notFound('Project');
      ensureOwnUser(request, ownerId, 'Project');
      const project = await projects.update({ id: request.params.id, ...request.body });
      if (!project) throw notFound('Project');
      return toProjectPublic(project);
    },
  );
};
