import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError, z } from 'zod';
import { databaseErrorOf, unavailabilityOf } from '../database/connection-errors.ts';
import { redactSecrets } from '../redact.ts';
import { apiFieldName } from './field-names.ts';
import { columnNamesFor, InputError } from './input.ts';

/** The one error body every route answers with; declare it on routes so /docs shows failures. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
  requestId: z.string(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export type FieldIssue = NonNullable<ErrorBody['error']['fields']>[number];

/** An error a route throws on purpose: its status, code and message reach the client as they are. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly fields?: FieldIssue[];

  constructor(statusCode: number, code: string, message: string, fields?: FieldIssue[]) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.fields = fields;
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Status for a foreign-key violation on this route: 404 where the missing row is named in the URL. */
    foreignKeyStatus?: 404 | 409;
  }
}

interface Mapped {
  status: number;
  code: string;
  message: string;
  fields?: FieldIssue[];
  retryAfter?: number;
}

/** `Key (email)=(x) already exists.` -> email; `Key (lower(email::text))=...` -> email. The value is never kept. */
function keyColumns(detail: string | undefined): string[] {
  const key = /Key \((.+?)\)=\(/.exec(detail ?? '')?.[1];
  if (!key) return [];
  return key.split(',').map((part) => {
    const name = /([A-Za-z_][A-Za-z0-9_]*)(?:::[a-z ]+)?\)*\s*$/.exec(part.trim());
    return name?.[1] ?? part.trim();
  });
}

const NUL = '\u0000';

/** Where in the request a predicate holds (`body.a.b`-style paths without the part name), a bounded walk. */
function requestFieldsWhere(request: FastifyRequest, holds: (value: string) => boolean): string[] {
  const found: string[] = [];
  const stack: { value: unknown; path: string[] }[] = [
    { value: request.body, path: [] },
    { value: request.query, path: [] },
    { value: request.params, path: [] },
  ];
  while (stack.length && found.length < 10) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (holds(value)) found.push(path.join('.') || 'body');
    } else if (value && typeof value === 'object' && path.length < 64) {
      for (const [key, item] of Object.entries(value)) {
        if (holds(key)) found.push([...path, key].join('.'));
        stack.push({ value: item, path: [...path, key] });
      }
    }
  }
  return found;
}

/**
 * SQLSTATE class 22 (data exception) and 54001 (statement too complex): the value sent cannot be stored or
 * compared, a client error. 22012 (division by zero) is excluded: it comes from a query's own arithmetic,
 * a bug to see in the 5xx logs rather than blame on the client.
 */
function dataException(
  code: string,
  request: FastifyRequest,
  column: string | undefined,
): Mapped | undefined {
  if (!(code.startsWith('22') && code !== '22012') && code !== '54001') return undefined;
  // PostgreSQL names no column for these; a NUL (22021 in text, 22P05 in jsonb) can be found in the request.
  const nul = code === '22021' || code === '22P05';
  const names = nul ? requestFieldsWhere(request, (value) => value.includes(NUL)) : column ? [column] : [];
  const message =
    code === '54001'
      ? 'a value is too deeply nested or too complex to store'
      : nul && names.length
        ? 'must not contain the NUL character (\\u0000)'
        : 'a value has an invalid format or is out of range';
  return {
    status: 400,
    code: 'invalid_value',
    message: names.length ? `${names.join(', ')}: ${message}` : message,
    fields: names.map((field) => ({ field, message })),
  };
}

function fromDatabase(error: unknown, request: FastifyRequest): Mapped | undefined {
  const db = databaseErrorOf(error);
  if (!db) return undefined;
  const constraint = db.constraint_name ?? db.constraint;
  const table = db.table_name ?? db.table;
  const names = columnNamesFor(request);
  const apiName = (name: string) => apiFieldName(request, names, name, table);
  const rawColumn = db.column_name ?? db.column;
  const column = rawColumn && apiName(rawColumn);
  const data = dataException(db.code, request, column);
  if (data) return data;
  switch (db.code) {
    case '23505': {
      const fields = keyColumns(db.detail).map(apiName);
      return {
        status: 409,
        code: 'conflict',
        message: fields.length ? `${fields.join(', ')} already exists` : 'a unique value already exists',
        fields: fields.map((field) => ({ field, message: 'already exists' })),
      };
    }
    case '23503': {
      const fields = keyColumns(db.detail).map(apiName);
      const status = request.routeOptions.config.foreignKeyStatus ?? 409;
      const deleting = /still referenced/.test(db.detail ?? '');
      return {
        status,
        code: status === 404 ? 'not_found' : 'conflict',
        message: deleting
          ? 'the row is still referenced by other rows'
          : `${fields.join(', ') || 'a referenced row'} does not exist`,
        fields: deleting ? undefined : fields.map((field) => ({ field, message: 'does not exist' })),
      };
    }
    case '23514':
      return {
        status: 422,
        code: 'check_violation',
        message: `violates check constraint ${constraint ?? ''}`.trim(),
        fields: constraint ? [{ field: constraint, message: 'check constraint failed' }] : undefined,
      };
    case '23502':
      return {
        status: 422,
        code: 'not_null_violation',
        message: `${column ?? 'a required field'} must not be null`,
        fields: column ? [{ field: column, message: 'must not be null' }] : undefined,
      };
  }
  return unavailabilityOf(error);
}

function zodFields(error: ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || (prefix ?? 'body'),
    message: issue.message,
  }));
}

function mapError(error: FastifyError | Error, request: FastifyRequest): Mapped {
  if (error instanceof HttpError) {
    return { status: error.statusCode, code: error.code, message: error.message, fields: error.fields };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as FastifyError).validationContext;
    return {
      status: 400,
      code: 'validation_error',
      message: `invalid ${where ?? 'request'}`,
      fields: error.validation.flatMap((issue) => {
        const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
        // An unknown key is the field to name, not the object that holds it.
        const keys =
          issue.keyword === 'unrecognized_keys' ? (issue.params.keys as string[] | undefined) : undefined;
        if (keys?.length)
          return keys.map((key) => ({ field: path ? `${path}.${key}` : key, message: 'unknown field' }));
        return [{ field: path || where || 'body', message: issue.message ?? 'invalid' }];
      }),
    };
  }
  if (error instanceof InputError) {
    return {
      status: 400,
      code: 'validation_error',
      message: `invalid body: ${error.field} ${error.message}`,
      fields: [{ field: error.field, message: error.message }],
    };
  }
  if (error instanceof ZodError) {
    return { status: 400, code: 'validation_error', message: 'invalid request', fields: zodFields(error) };
  }
  // Refused by the router (server.ts frameworkErrors): Fastify's messages echo the whole URL, ours do not.
  const framework = (error as FastifyError).code;
  if (framework === 'FST_ERR_BAD_URL')
    return { status: 400, code: 'bad_url', message: 'the URL is not valid (malformed percent-encoding)' };
  if (framework === 'FST_ERR_MAX_PARAM_LENGTH')
    return { status: 414, code: 'path_parameter_too_long', message: 'a path parameter is too long' };
  const database = fromDatabase(error, request);
  if (database) return database;
  const fastifyError = error as FastifyError;
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    // Fastify's own client errors (bad JSON, body too large, unsupported media type) carry safe messages.
    return {
      status: fastifyError.statusCode,
      code: (fastifyError.code ?? 'bad_request').toLowerCase(),
      message: redactSecrets(fastifyError.message),
    };
  }
  return { status: 500, code: 'internal_error', message: 'internal server error' };
}

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const mapped = mapError(error, request);
  if (mapped.status >= 500) {
    const db = databaseErrorOf(error);
    // Drizzle's wrapper message carries the query's parameters (password hashes, tokens): log the driver's.
    const message = db?.message ?? error.message.split('\nparams:')[0]!;
    request.log.error(
      { err: { type: error.name, code: db?.code, message: redactSecrets(message) } },
      'request failed',
    );
  }
  if (mapped.retryAfter) reply.header('retry-after', String(mapped.retryAfter));
  return reply.status(mapped.status).send(errorBody(request, mapped.code, mapped.message, mapped.fields));
}

/** The one error body, for `request`. */
export function errorBody(
  request: FastifyRequest,
  code: string,
  message: string,
  fields?: FieldIssue[],
): ErrorBody {
  return { error: { code, message, ...(fields?.length ? { fields } : {}) }, requestId: String(request.id) };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const message = `no route for ${request.method} ${request.url.split('?')[0]}`;
  return reply.status(404).send(errorBody(request, 'route_not_found', message));
}
