import { z } from 'zod';
import type { Caller } from '../database/callers.ts';
import type { AppServer } from '../http/app-server.ts';
import { notFound } from '../http/errors.ts';
import { IdParams, type IntegerIdParams } from '../http/params.ts';
import { errorResponses } from '../http/responses.ts';

type Params = typeof IdParams | typeof IntegerIdParams;
type Key<TParams extends Params> = { id: z.infer<TParams>['id']; caller?: Caller };

interface Declared {
  /** The operation's summary in the OpenAPI document. */
  summary: string;
}

/** DELETE /:id, checked before it runs (the user in the path, or an operator); false: nothing to delete. */
type Remove<TParams extends Params> = Declared & {
  remove(key: { id: z.infer<TParams>['id'] }): Promise<boolean>;
};

export type OwnRowRoutes<
  TParams extends Params,
  TRow,
  TResponse extends z.ZodType,
  TUpdate extends z.ZodType,
> = {
  tags: string[];
  /** `IdParams` (uuid keys, the default) or `IntegerIdParams`. */
  params?: TParams;
  /** What a missing or foreign row's 404 names (`User`, as the ownership check's). */
  entity?: string;
  remove?: Remove<TParams>;
} & (
  | {
      /** The row's response schema and the one way a row becomes it (GET and PATCH answer it). */
      response: { schema: TResponse; from(row: TRow): z.infer<TResponse> };
      /** GET /:id: `find` carries `key.caller`'s check in its statement (an `inQuery` route). */
      read?: Declared & { find(key: Key<TParams>): Promise<TRow | undefined> };
      /** PATCH /:id, `inQuery` as `read`; `statuses`: the errors it answers besides 404. */
      update?: Declared & {
        body: TUpdate;
        statuses?: number[];
        apply(key: Key<TParams>, body: z.infer<TUpdate>): Promise<TRow | undefined>;
      };
    }
  | { response?: never; read?: never; update?: never; remove: Remove<TParams> }
);

/** 200 with the row, or an error body: typed loosely, the row's type is checked where `from` is declared. */
function answers(schema: z.ZodType, ...statuses: number[]): Record<number, z.ZodType> {
  return { 200: schema, ...errorResponses(...statuses) };
}

/** Reads and writes of a row a user owns, checked in the statement: only a user's credential has a caller. */
const ownInQuery = { auth: 'own', owner: { param: 'id', inQuery: true } } as const;
const own = { auth: 'own', owner: { param: 'id' } } as const;

/**
 * The routes of a row named by `:id` that its user (or an operator) reads, changes or deletes, as every app
 * declares them: another user's row, or none, is a 404 naming `entity`. Each route is declared only when
 * its part is given; the story keeps its summaries, bodies and what its repository does.
 */
export function ownRowRoutes<
  TRow,
  TResponse extends z.ZodType,
  TUpdate extends z.ZodType = z.ZodNever,
  TParams extends Params = typeof IdParams,
>(app: AppServer, options: OwnRowRoutes<TParams, TRow, TResponse, TUpdate>): void {
  const { tags, params = IdParams, entity = 'User', response, read, update, remove } = options;
  const idOf = (request: { params: unknown }) => (request.params as z.infer<TParams>).id;
  /** The key of the request's row, with the caller whose check its statement carries. */
  const keyOf = (request: { params: unknown; caller: Caller | undefined }) => ({
    id: idOf(request),
    caller: request.caller,
  });
  /** The row found; none is a 404. */
  const found = (row: TRow | undefined): TRow => {
    if (!row) throw notFound(entity);
    return row;
  };
  /** A route's options: the routes' tags, params and entity, with its own summary, owner, responses and body. */
  const declared = (
    summary: string,
    owner: typeof own | typeof ownInQuery,
    responses: Record<number, z.ZodType>,
    body?: z.ZodType,
  ) => ({
    config: { ...owner, entity },
    schema: { tags, summary, params, ...(body && { body }), response: responses },
  });
  if (response && read) {
    app.get('/:id', declared(read.summary, ownInQuery, answers(response.schema, 404)), async (request) =>
      response.from(found(await read.find(keyOf(request)))),
    );
  }
  if (response && update) {
    const responses = answers(response.schema, 404, ...(update.statuses ?? []));
    app.patch('/:id', declared(update.summary, ownInQuery, responses, update.body), async (request) =>
      response.from(found(await update.apply(keyOf(request), request.body as z.infer<TUpdate>))),
    );
  }
  if (remove) {
    app.delete(
      '/:id',
      declared(remove.summary, own, { 204: z.null(), ...errorResponses(404) }),
      async (request, reply) => {
        if (!(await remove.remove({ id: idOf(request) }))) throw notFound(entity);
        return reply.status(204).send(null);
      },
    );
  }
}
