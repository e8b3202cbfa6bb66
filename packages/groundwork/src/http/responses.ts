import type { RouteOptions } from 'fastify';
import type { z } from 'zod';
import { errorBodySchema } from './errors.ts';
import { BODY_DEPTH_MAX } from './input.ts';

/**
 * Which statuses an operation documents. A route declares the ones its own code answers in
 * `schema.response` (`{ 200: User, ...errorResponses(403, 404) }`); the foundation adds the ones it answers
 * itself, read from the route's declaration (see foundationStatuses); hooks that answer a status carry it
 * (see answering). So the document lists what the server does, and the two change together.
 */

// Shared by name: an app may load the package's built copy while the server runs its sources (the monorepo).
const ANSWERS = Symbol.for('groundwork.answers');

type Hook = (...args: never[]) => unknown;

/** Marks a route hook with the error statuses it answers (a rate limit's 429): routes using it document them. */
export function answering<THook extends Hook>(statuses: readonly number[], hook: THook): THook {
  Object.defineProperty(hook, ANSWERS, { value: statuses });
  return hook;
}

/** Error statuses in the one error shape, to spread into a route's `schema.response`. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorBodySchema> {
  return Object.fromEntries(statuses.map((status) => [status, errorBodySchema]));
}

/** Methods whose request body Fastify parses (DELETE and OPTIONS when one is sent). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const hooksOf = (route: RouteOptions) =>
  [route.onRequest, route.preParsing, route.preValidation, route.preHandler].flat().filter(Boolean);

/**
 * The error statuses the foundation answers for `route`: 400/413/415 where a body is parsed (malformed JSON,
 * over the body limit, a content type other than JSON), 400 where params or a query are validated, 414 for an
 * overlong path parameter, 401 without a valid credential, 403 on operator and login-session routes, 404 on `own` routes (another
 * user's row, or none), 404 where a missing
 * referenced row is the URL's (`foreignKeyStatus: 404`), 503 when the database is unavailable, and what the
 * route's hooks declare.
 */
export function foundationStatuses(route: RouteOptions, { database }: { database: boolean }): Set<number> {
  const statuses = new Set<number>();
  const add = (...codes: number[]) => {
    for (const code of codes) statuses.add(code);
  };
  const schema = route.schema ?? {};
  if ([route.method].flat().some((method) => BODY_METHODS.has(method))) add(400, 413, 415);
  if (schema.params) add(400, 414);
  if (schema.querystring || schema.body) add(400);
  const access = route.config?.auth ?? 'user';
  if (access !== 'public') add(401);
  if (access === 'admin' || access === 'session') add(403);
  if (access === 'own') add(404);
  if (route.config?.foreignKeyStatus === 404) add(404);
  if (database) add(503);
  for (const hook of hooksOf(route)) add(...((hook as { [ANSWERS]?: number[] })[ANSWERS] ?? []));
  return statuses;
}

/** `route`'s response map: the route's own entries, then the foundation's statuses in the error shape. */
export function documentedResponses(
  route: RouteOptions,
  options: { database: boolean },
): Record<number, z.ZodType> {
  const declared = (route.schema?.response ?? {}) as Record<number, z.ZodType>;
  return { ...errorResponses(...foundationStatuses(route, options)), ...declared };
}

/** What each status means to a client; OpenAPI requires a description on every response. */
export const STATUS_DESCRIPTIONS: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  204: 'Done; no body',
  400:
    'The request is invalid; `error.fields` names the fields. No JSON body may nest deeper than ' +
    `${BODY_DEPTH_MAX} levels, hold a whole number beyond ±(2^53 - 1), or a \`__proto__\` or ` +
    '`constructor.prototype` key.',
  401: 'No valid credential (Authorization: Bearer)',
  403: 'The credential may not do this',
  404: 'Not found (or not yours)',
  409: 'Conflicts with existing data; `error.fields` names the fields',
  413: 'The body is larger than the server accepts',
  414: 'A path parameter is too long',
  415: 'The body is not application/json',
  422: 'Breaks a rule of the stored data',
  429: 'Too many requests; retry after the Retry-After header seconds',
  503: 'The database is unavailable; retry later',
};
