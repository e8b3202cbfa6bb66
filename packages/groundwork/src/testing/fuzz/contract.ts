import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { BODY_DEPTH_MAX, jsonProblem } from '../../http/input.ts';
import type { JsonSchema, Operation, Parameter } from './openapi.ts';

/**
 * What an app's OpenAPI document promises about one operation, checked against real requests and answers:
 * whether a request is valid by the document, which statuses it lists, and each answer's body schema.
 * OpenAPI 3.0's `nullable` and `example` are ajv keywords here; formats are ajv-formats' (email, uuid, date).
 */
export interface OperationContract {
  /** The first thing the document refuses in the request, or undefined when it is valid by the document. */
  requestProblem(request: SentRequest): string | undefined;
  /** Whether the document lists `status`. */
  lists(status: number): boolean;
  /**
   * Whether the document states, in words, a rule about each of these body fields (`custom_hours.end`): a
   * rule across fields (end after start) has no JSON Schema keyword, so the field's schema or an object
   * holding it names the field in its description.
   */
  statesRule(fields: string[]): boolean;
  /** The first thing the answer's body breaks in its documented schema, or undefined. */
  responseProblem(status: number, contentType: string | undefined, body: string): string | undefined;
}

export interface SentRequest {
  /** Path and query parameters as text, as they arrive. */
  path: Record<string, string>;
  query: Record<string, string>;
  /** The JSON text sent, undefined without a body. */
  body: string | undefined;
  contentType: string | undefined;
}

const newAjv = (coerceTypes: boolean) => {
  const ajv = new Ajv({ strict: false, coerceTypes, allErrors: false, validateFormats: true });
  addFormats.default(ajv);
  return ajv;
};

// Text parameters are read as the document's type (`?limit=10` is an integer); bodies are JSON as sent.
const textAjv = newAjv(true);
const jsonAjv = newAjv(false);

function parametersValidator(parameters: Parameter[]): ValidateFunction {
  return textAjv.compile({
    type: 'object',
    properties: Object.fromEntries(parameters.map((p) => [p.name, p.schema])),
    required: parameters.filter((p) => p.required).map((p) => p.name),
  });
}

const describeErrors = (validate: ValidateFunction) =>
  (validate.errors ?? [])
    .slice(0, 2)
    .map((error) => `${error.instancePath || '/'} ${error.message}`)
    .join('; ');

const isJson = (contentType: string | undefined) =>
  contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType);

/** A `__proto__` or `constructor.prototype` key anywhere: Fastify refuses such JSON (prototype poisoning). */
function hasPrototypeKeys(value: unknown): boolean {
  const stack = [value];
  while (stack.length) {
    const current = stack.pop();
    if (current === null || typeof current !== 'object') continue;
    if (Object.hasOwn(current, '__proto__')) return true;
    const maker = Object.hasOwn(current, 'constructor') && (current as { constructor: unknown }).constructor;
    if (maker !== null && typeof maker === 'object' && Object.hasOwn(maker, 'prototype')) return true;
    stack.push(...Object.values(current));
  }
  return false;
}

/** The schemas a body field's path passes through, the field's own last (none when the path leaves the schema). */
function schemasAlong(schema: JsonSchema | undefined, path: string[]): JsonSchema[] {
  const along: JsonSchema[] = [];
  let current = schema;
  for (const key of path) {
    if (current === undefined) return [];
    along.push(current);
    const choices = [current, ...(current.anyOf ?? []), ...(current.oneOf ?? []), ...(current.allOf ?? [])];
    current = choices.find((choice) => choice.properties?.[key])?.properties?.[key];
  }
  return current === undefined ? [] : [...along, current];
}

export function contractOf(operation: Operation): OperationContract {
  const path = parametersValidator(operation.pathParams);
  const query = parametersValidator(operation.query);
  const body = operation.body && jsonAjv.compile(operation.body);
  const responses = new Map(
    Object.entries(operation.responses).map(([status, schema]) => [
      Number(status),
      schema && jsonAjv.compile(schema),
    ]),
  );
  return {
    requestProblem(request) {
      // Copies: ajv coerces in place.
      if (!path({ ...request.path })) return `path ${describeErrors(path)}`;
      if (!query({ ...request.query })) return `query ${describeErrors(query)}`;
      if (!body) return undefined;
      if (request.body === undefined) return operation.bodyRequired ? 'body missing' : undefined;
      if (!isJson(request.contentType)) return `content-type ${request.contentType ?? 'missing'}`;
      let value: unknown;
      try {
        value = JSON.parse(request.body);
      } catch {
        return 'body is not JSON';
      }
      if (hasPrototypeKeys(value)) return 'body has a __proto__ or constructor.prototype key';
      // What the foundation refuses in any body, whatever its schema (http/input.ts guardInput).
      const guarded = jsonProblem(value, { depth: BODY_DEPTH_MAX, text: false });
      if (guarded) return `body ${guarded.path.join('.')} ${guarded.message}`;
      return body(value) ? undefined : `body ${describeErrors(body)}`;
    },
    lists: (status) => responses.has(status),
    statesRule: (fields) =>
      fields.length > 0 &&
      fields.every((field) => {
        const path = field.split('.');
        const name = path.at(-1)!;
        return schemasAlong(operation.body, path).some((schema) =>
          new RegExp(`\\b${name}\\b`).test(schema.description ?? ''),
        );
      }),
    responseProblem(status, contentType, text) {
      const validate = responses.get(status);
      if (validate === undefined) return text === '' ? undefined : 'a body where the document lists none';
      if (!isJson(contentType)) return `content-type ${contentType ?? 'missing'}, not JSON`;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return 'a body that is not JSON';
      }
      return validate(value) ? undefined : describeErrors(validate);
    },
  };
}
