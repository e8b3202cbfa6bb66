/** The parts of an app's OpenAPI 3 document (`/docs/json`) the hostile-input generator reads. */

export interface JsonSchema {
  type?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  multipleOf?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
  description?: string;
}

export interface Parameter {
  name: string;
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  method: string;
  /** `/api/v1/users/{id}` as the document spells it. */
  path: string;
  pathParams: Parameter[];
  query: Parameter[];
  /** The JSON body's schema; undefined when the operation takes none. */
  body?: JsonSchema;
  bodyRequired: boolean;
  /** Each listed status and its JSON body's schema (undefined: no body, as for 204). */
  responses: Record<string, JsonSchema | undefined>;
}

interface Document {
  components?: { schemas?: Record<string, JsonSchema> };
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { in: string; name: string; required?: boolean; schema?: JsonSchema }[];
        requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
        responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
      }
    >
  >;
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/**
 * `schema` with each `$ref` to a named component (request bodies, see http/openapi.ts) replaced by that
 * component, so valid bodies can be generated; a cycle ends in an empty schema.
 */
function dereferenced(
  schema: unknown,
  components: Record<string, JsonSchema>,
  seen: string[] = [],
): JsonSchema {
  if (Array.isArray(schema)) return schema.map((item) => dereferenced(item, components, seen)) as JsonSchema;
  if (schema === null || typeof schema !== 'object') return schema as JsonSchema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    return seen.includes(name) ? {} : dereferenced(components[name], components, [...seen, name]);
  }
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [key, dereferenced(value, components, seen)]),
  ) as JsonSchema;
}

export function operationsOf(document: Document): Operation[] {
  const components = document.components?.schemas ?? {};
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const parameters = (where: string) =>
        (operation.parameters ?? [])
          .filter((p) => p.in === where)
          .map((p) => ({
            name: p.name,
            required: p.required ?? where === 'path',
            schema: dereferenced(p.schema ?? {}, components),
          }));
      const body = operation.requestBody?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters('path'),
        query: parameters('query'),
        body: body && dereferenced(body, components),
        bodyRequired: operation.requestBody?.required ?? false,
        responses: Object.fromEntries(
          Object.entries(operation.responses ?? {}).map(([status, response]) => {
            const schema = response.content?.['application/json']?.schema;
            return [status, schema && dereferenced(schema, components)];
          }),
        ),
      });
    }
  }
  return operations;
}
