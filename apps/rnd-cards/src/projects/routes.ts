import { errorResponses, IdParams, notFound, type RoutesPlugin } from 'groundwork-pg';
import type { ProjectsRepository } from './repository.ts';
import { ProjectPublic, ProjectUpdate, toProjectPublic } from './schemas.ts';

export const projectsRoutes: RoutesPlugin<{ projects: ProjectsRepository }> = async (app, { projects }) => {
  app.patch(
    '/:id',
    {
      // Whose it is comes from its batch, read before anything is written.
      config: {
        auth: 'own',
        owner: { param: 'id', lookup: (id) => projects.findOwnerId({ id }) },
        entity: 'Project',
      },
      schema: {
        tags: ['projects'],
        summary: "Change a project's status and/or quality score (the batch's aggregates follow)",
        params: IdParams,
        body: ProjectUpdate,
        response: { 200: ProjectPublic, ...errorResponses(404) },
      },
    },
    async (request) => {
      const project = await projects.update({ id: request.params.id, ...request.body });
      if (!project) throw notFound('Project');
      return toProjectPublic(project);
    },
  );
};
