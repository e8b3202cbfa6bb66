import {
  errorResponses,
  hashPassword,
  ownRowRoutes,
  type RoutesPlugin,
  registrationRateLimit,
} from 'groundwork-pg';
import type { UserChanges, UsersRepository } from './repository.ts';
import { toUserResponse, UserCreate, UserList, UserListQuery, UserResponse, UserUpdate } from './schemas.ts';

/** API field names (snake_case, as in the story's data model) to repository keys. */
function toChanges(body: UserUpdate): UserChanges {
  const changes: UserChanges = {};
  if (body.exam_date !== undefined) changes.examDate = body.exam_date;
  if (body.target_score !== undefined) changes.targetScore = body.target_score;
  if (body.daily_study_time !== undefined) changes.dailyStudyTime = body.daily_study_time;
  if (body.knowledge_level !== undefined) changes.knowledgeLevel = body.knowledge_level;
  if (body.motivation !== undefined) changes.motivation = body.motivation;
  if (body.referral_source !== undefined) changes.referralSource = body.referral_source;
  if (body.dark_mode !== undefined) changes.darkMode = body.dark_mode;
  return changes;
}

export const usersRoutes: RoutesPlugin<{ users: UsersRepository }> = async (app, { users }) => {
  app.post(
    '/',
    {
      // Signing up needs no account; the per-IP limit bounds the argon2 work a client can ask for.
      config: { auth: 'public' },
      preHandler: registrationRateLimit(),
      schema: {
        tags: ['users'],
        summary: 'Register a user (409 when the email exists in any letter case)',
        body: UserCreate,
        response: { 201: UserResponse, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      const row = await users.create({ email, hashedPassword: await hashPassword(password) });
      return reply.status(201).send(toUserResponse(row));
    },
  );

  app.get(
    '/',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'List users, newest first (operators only)',
        querystring: UserListQuery,
        response: { 200: UserList },
      },
    },
    async (request) => {
      const { rows, count } = await users.list(request.query);
      return { data: rows.map(toUserResponse), count };
    },
  );

  ownRowRoutes(app, {
    tags: ['users'],
    response: { schema: UserResponse, from: toUserResponse },
    read: { summary: 'One user (your own)', find: users.findById },
    update: {
      summary: 'Update your onboarding answers and display preferences',
      body: UserUpdate,
      apply: (key, body) => users.update({ ...key, changes: toChanges(body) }),
    },
  });
};
