import { createRequire } from 'node:module';
import type FastJson from 'fast-json-stringify';
import type { FastifySchemaCompiler } from 'fastify';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

type Serializer = (data: unknown) => string;
type JsonSchema = { [keyword: string]: unknown };

/** Keywords fast-json-stringify meets by validating each value with ajv: slow, and stricter than zod. */
const BRANCHING = new Set(['anyOf', 'oneOf', 'allOf', 'not', 'if']);
/** Keywords whose value maps names to schemas. */
const MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);
/** Keywords whose value is data, not a schema. */
const DATA = new Set(['enum', 'const', 'default', 'examples']);

/** `X | null` as zod writes it, anyOf [X, {type: 'null'}], as `type: [X's type, 'null']`. */
function nullableAsType(node: JsonSchema): JsonSchema {
  const members = node.anyOf as JsonSchema[] | undefined;
  if (members?.length !== 2) return node;
  const nul = members.findIndex((m) => m.type === 'null' && Object.keys(m).length === 1);
  const other = members[1 - nul];
  if (nul < 0 || typeof other?.type !== 'string') return node;
  const { anyOf: _, ...rest } = node;
  return { ...rest, ...other, type: [other.type, 'null'] };
}

/**
 * The schema with every `| null` written as a type, which fast-json-stringify serializes without
 * validating; undefined when another union is left (those keep zod).
 */
function withoutUnions(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(withoutUnions);
    return items.includes(undefined) ? undefined : items;
  }
  if (!value || typeof value !== 'object') return value;
  const out: JsonSchema = {};
  for (const [keyword, sub] of Object.entries(nullableAsType(value as JsonSchema))) {
    if (BRANCHING.has(keyword)) return undefined;
    let converted: unknown = sub;
    if (MAPS.has(keyword)) {
      const entries = Object.entries(sub as JsonSchema).map(([name, schema]) => [
        name,
        withoutUnions(schema),
      ]);
      converted = entries.some(([, schema]) => schema === undefined)
        ? undefined
        : Object.fromEntries(entries);
    } else if (!DATA.has(keyword)) {
      converted = withoutUnions(sub);
    }
    if (converted === undefined) return undefined;
    out[keyword] = converted;
  }
  return out;
}

/** One serializer per schema object: the shared error body is compiled once, not once per route. */
const compiled = new WeakMap<object, Serializer>();

/**
 * fast-json-stringify, required at the first compile rather than imported: it loads ajv and its formats,
 * ~100 modules that a start which answers no request yet does not need.
 */
let fastJson: typeof FastJson | undefined;
const requireFastJson = () =>
  (fastJson ??= createRequire(import.meta.url)('fast-json-stringify') as typeof FastJson);

/**
 * Response bodies are written by a function fast-json-stringify compiles once from the zod schema's JSON
 * Schema, instead of a zod parse per response. It writes only the properties the schema declares, so a
 * field outside it (a password hash left in a row) never leaves, whether the object is strict or not; a
 * missing required property still fails the response (500). A schema JSON Schema cannot express (a
 * Date) or with a union other than `| null` keeps zod's serializer.
 *
 * The function is compiled at the schema's first response, not when its route is registered: a server
 * starts with hundreds of response schemas (every route's error bodies included) and answers few of
 * them soon, and compiling them all was a good part of `npm start`.
 */
export const serializerCompiler = (route: Parameters<FastifySchemaCompiler<z.ZodType>>[0]): Serializer => {
  const cached = compiled.get(route.schema);
  if (cached) return cached;
  let serialize: Serializer | undefined;
  const serializer: Serializer = (data) => {
    serialize ??= compile(route);
    return serialize(data);
  };
  compiled.set(route.schema, serializer);
  return serializer;
};

function compile(route: Parameters<FastifySchemaCompiler<z.ZodType>>[0]): Serializer {
  try {
    // An empty registry: every schema inline, never a $ref to a component registered elsewhere.
    const json = withoutUnions(
      z.toJSONSchema(route.schema, { io: 'output', target: 'draft-7', metadata: z.registry() }),
    );
    return json
      ? requireFastJson()(json as Parameters<typeof FastJson>[0])
      : zodSerializerCompiler(route as never);
  } catch {
    return zodSerializerCompiler(route as Parameters<typeof zodSerializerCompiler>[0]);
  }
}
