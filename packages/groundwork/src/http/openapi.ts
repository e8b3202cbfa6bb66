import type { SwaggerTransformObject } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { $ZodType, type GlobalMeta, globalRegistry, registry, toJSONSchema } from 'zod/v4/core';
import { errorBodySchema } from './errors.ts';
import { readinessSchema } from './health.ts';
import { STATUS_DESCRIPTIONS } from './responses.ts';

const words = (text: string) => text.split(/[^A-Za-z0-9]+/).filter(Boolean);
const capitalized = (word: string) => word[0]!.toUpperCase() + word.slice(1);

/**
 * `PUT /api/v1/users/:id/gmail-tokens` → `putApiV1UsersByIdGmailTokens`: derived from what identifies an
 * operation, so it stays the same until the route itself changes, and reads as a client function name.
 */
export function operationIdOf(method: string, url: string): string {
  const parts = url.split('/').flatMap((segment) => {
    if (!segment.startsWith(':')) return words(segment).map(capitalized);
    // `:id(^\\d+)`: the name without its pattern.
    const [name = ''] = segment.slice(1).split('(');
    return [`By${words(name).map(capitalized).join('')}`];
  });
  return method.toLowerCase() + parts.join('');
}

/**
 * An onRoute hook giving each documented route of one app an operationId (a declared `schema.operationId`
 * wins), refusing a second route with the same id: client generators name functions after it.
 */
export function operationIds(prefix: string): (route: RouteOptions) => void {
  const taken = new Map<string, string>();
  return (route) => {
    // Fastify's automatic HEAD copies of GET routes are not documented.
    const methods = [route.method].flat().filter((method) => method !== 'HEAD');
    if (methods.length === 0 || route.schema?.hide) return;
    const url = route.url.startsWith(prefix) ? route.url.slice(prefix.length) || '/' : route.url;
    const where = `${methods.join(',')} ${url}`;
    const id = (route.schema?.operationId as string | undefined) ?? operationIdOf(methods.join('Or'), url);
    const other = taken.get(id);
    if (other !== undefined) {
      throw new Error(
        `operationId "${id}" of ${where} is also ${other}'s; declare schema.operationId on one`,
      );
    }
    taken.set(id, where);
    route.schema = { ...route.schema, operationId: id };
  };
}

type Registry = ReturnType<typeof registry<GlobalMeta>>;

/**
 * Adds to `into` every zod schema inside `schema` that has an id (`.meta({ id: 'UserPublic' })`). Zod's
 * JSON Schema walk visits each nested schema once; its output is not used.
 */
function collectNamed(into: Registry, schema: unknown, io: 'input' | 'output'): void {
  if (!(schema instanceof $ZodType)) return;
  toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: ({ zodSchema }) => {
      const id = globalRegistry.get(zodSchema)?.id;
      if (id === undefined) return;
      const named = into._idmap.get(id);
      if (named !== undefined && named !== zodSchema) {
        throw new Error(`two different zod schemas have the OpenAPI id "${id}"; give each its own`);
      }
      into.add(zodSchema, { id });
    },
  });
}

/** The component names a `$ref` reaches from the paths, directly or through other components. */
function referencedComponents(paths: unknown, schemas: Record<string, unknown>): Set<string> {
  const seen = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      const name =
        key === '$ref' && typeof child === 'string'
          ? /^#\/components\/schemas\/(.+)$/.exec(child)?.[1]
          : undefined;
      if (name === undefined) visit(child);
      else if (!seen.has(name)) {
        seen.add(name);
        visit(schemas[name]);
      }
    }
  };
  visit(paths);
  return seen;
}

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node => value !== null && typeof value === 'object';

/**
 * Each response described by its status (swagger says "Default Response"), and a 204 without content: it
 * has no body, whatever schema the route gave the serializer.
 */
function describeResponses(paths: Record<string, Record<string, { responses?: Record<string, Node> }>>) {
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (response.description === 'Default Response')
          response.description = STATUS_DESCRIPTIONS[status] ?? `HTTP ${status}`;
        if (status === '204') delete response.content;
      }
    }
  }
}

/**
 * Nullable schemas as OpenAPI 3.0 means them: `nullable` only beside a `type` (zod writes a nullable named
 * schema as `{ nullable: true, allOf: [{ $ref }] }`; the type is the referenced component's), and a nullable
 * enum lists null (validators check the enum after `nullable` lets null through).
 */
function completeNullables(value: unknown, schemas: Record<string, unknown>): void {
  if (Array.isArray(value)) {
    for (const item of value) completeNullables(item, schemas);
    return;
  }
  if (!isNode(value)) return;
  if (value.nullable === true && Array.isArray(value.enum) && !value.enum.includes(null))
    value.enum.push(null);
  if (value.nullable === true && value.type === undefined) {
    const [only] = [value.allOf, value.anyOf, value.oneOf].find(Array.isArray) ?? [];
    const name = isNode(only) && typeof only.$ref === 'string' ? only.$ref.split('/').pop() : undefined;
    const target = name === undefined ? undefined : schemas[name];
    if (isNode(target) && typeof target.type === 'string') value.type = target.type;
  }
  for (const child of Object.values(value)) completeNullables(child, schemas);
}

/** Descriptions and examples stay in zod's global registry; only the ids are per app. */
class WithGlobalMetadata extends WeakMap<$ZodType, GlobalMeta> {
  override get(schema: $ZodType) {
    return super.get(schema) ?? globalRegistry._map.get(schema);
  }
  override has(schema: $ZodType) {
    return super.has(schema) || globalRegistry._map.has(schema);
  }
}

/**
 * One app's swagger `transform` and `transformObject`. The zod schemas its routes use that have an id become
 * named components (`#/components/schemas/UserPublic`; a request's form gets the suffix `Input`), so
 * generated clients get named types. The registry is the app's own: zod's global one holds the ids of every
 * loaded app, and two apps may each name a schema `UserPublic`.
 */
export function openapiComponents(): {
  transform: ReturnType<typeof createJsonSchemaTransform>;
  transformObject: SwaggerTransformObject;
} {
  const named = registry<GlobalMeta>();
  named._map = new WithGlobalMetadata();
  named.add(errorBodySchema, { id: 'ErrorBody' });
  named.add(readinessSchema, { id: 'Readiness' });
  const transform = createJsonSchemaTransform({ schemaRegistry: named });
  const transformObject = createJsonSchemaTransformObject({ schemaRegistry: named });
  return {
    transform: (input) => {
      const { response, ...request } = (input.schema ?? {}) as Record<string, unknown>;
      for (const part of ['body', 'querystring', 'params', 'headers']) {
        collectNamed(named, request[part], 'input');
      }
      for (const schema of Object.values(response ?? {})) collectNamed(named, schema, 'output');
      return transform(input);
    },
    // Every named schema is emitted in both forms; only those the paths use are kept.
    transformObject: (input) => {
      const document = transformObject(input);
      if (!('components' in document)) return document;
      const schemas = (document.components?.schemas ?? {}) as Record<string, unknown>;
      const used = referencedComponents(document.paths, schemas);
      for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name];
      describeResponses(document.paths as Parameters<typeof describeResponses>[0]);
      completeNullables([document.paths, schemas], schemas);
      return document;
    },
  };
}
