import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError, z } from 'zod';
import { databaseErrorOf, isUnavailable } from '../database/connection-errors.ts';
import { redactSecrets } from '../redact.ts';

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

function fromDatabase(error: unknown, request: FastifyRequest): Mapped | undefined {
  const db = databaseErrorOf(error);
  if (!db) return undefined;
  const constraint = db.constraint_name ?? db.constraint;
  const column = db.column_name ?? db.column;
  switch (db.code) {
    case '23505': {
      const fields = keyColumns(db.detail);
      return {
        status: 409,
        code: 'conflict',
        message: fields.length ? `${fields.join(', ')} already exists` : 'a unique value already exists',
        fields: fields.map((field) => ({ field, message: 'already exists' })),
      };
    }
    case '23503': {
      const fields = keyColumns(db.detail);
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
    case '22P02':
    case '22007':
    case '22008':
    case '22003':
    case '22001':
      return {
        status: 400,
        code: 'invalid_value',
        message: 'a value has an invalid format or is out of range',
      };
  }
  if (db.code === '42P01' || db.code === '42703') {
    // A missing table or column: the database is behind the code (pending migrations), not a client error.
    return {
      status: 503,
      code: 'schema_not_ready',
      message: 'the database schema is older than this code; run the pending migrations',
      retryAfter: 30,
    };
  }
  if (isUnavailable(error)) {
    return {
      status: 503,
      code: 'database_unavailable',
      message:
        db.code === '57014'
          ? 'the database took too long to answer'
          : db.code === 'GW_POOL_TIMEOUT'
            ? 'all database connections are busy'
            : 'the database is not reachable',
      retryAfter: db.code === 'GW_POOL_TIMEOUT' || db.code === '57014' ? 1 : 5,
    };
  }
  return undefined;
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
  if (error instanceof ZodError) {
    return { status: 400, code: 'validation_error', message: 'invalid request', fields: zodFields(error) };
  }
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
  const body: ErrorBody = {
    error: {
      code: mapped.code,
      message: mapped.message,
      ...(mapped.fields?.length ? { fields: mapped.fields } : {}),
    },
    requestId: String(request.id),
  };
  return reply.status(mapped.status).send(body);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const body: ErrorBody = {
    error: {
      code: 'route_not_found',
      message: `no route for ${request.method} ${request.url.split('?')[0]}`,
    },
    requestId: String(request.id),
  };
  return reply.status(404).send(body);
}
