import fc from 'fast-check';
import type { JsonSchema, Operation, Parameter } from './openapi.ts';

/** JSON text sent as it is: what a JS value cannot say (2^53 + 1 digits, 10,000 levels, `__proto__` keys). */
export class Raw {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** An id taken from earlier successful responses (index modulo the pool), so requests reach real rows. */
export class PoolPick {
  readonly index: number;
  constructor(index: number) {
    this.index = index;
  }
}

export type Value = unknown;

export const OMIT = Symbol('omit');

export interface FuzzRequest {
  operation: Operation;
  path: Record<string, Value>;
  query: Record<string, Value>;
  body: Value | typeof OMIT;
  /** undefined: no content-type header at all; 'json': the usual application/json. */
  contentType: string | undefined;
  /** What was made hostile, for the failure report. */
  label: string;
}

const DEPTH = 10_000;
const deepText = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
const protoObject = (value: unknown) => {
  // An own, enumerable key named __proto__ (assignment would set the prototype instead).
  return Object.defineProperty(Object.create(null), '__proto__', { value, enumerable: true, writable: true });
};

/** Values no schema should let through, each named for the report. */
const hostileValues: [string, unknown][] = [
  ['null', null],
  ['wrong type: string', 'x'],
  ['wrong type: number', 123],
  ['wrong type: boolean', true],
  ['wrong type: array', []],
  ['wrong type: object', {}],
  ['empty string', ''],
  ['10,000-char string', 'a'.repeat(10_000)],
  ['NUL', 'a\u0000b'],
  ['lone surrogate', 'a\ud800b'],
  ['__proto__ key', protoObject({ polluted: true })],
  ['constructor.prototype key', { constructor: { prototype: { polluted: true } } }],
  ['10,000-level nesting', new Raw(deepText(DEPTH))],
  ['integer beyond 2^53', new Raw('9007199254740993')],
  ['negative integer beyond 2^53', new Raw('-9007199254740993')],
  ['number beyond double range', new Raw('1e400')],
  ['fraction', 0.5],
  ['negative', -1],
  ['huge string of digits', '9'.repeat(400)],
];

/** Hostile strings for path and query parameters (they arrive as text). */
const hostileParams: [string, string][] = [
  ['empty', ''],
  ['NUL', 'a\u0000b'],
  ['lone surrogate', 'a\ud800'],
  ['10,000 chars', '1'.repeat(10_000)],
  ['beyond 2^53', '9007199254740993'],
  ['beyond int4', '2147483648'],
  ['negative', '-1'],
  ['fraction', '1.5'],
  ['exponent', '1e400'],
  ['not a number', 'NaN'],
  ['quote', "'; drop table users; --"],
  ['dot segments', '../..'],
  ['uuid-like, wrong', '00000000-0000-0000-0000-00000000000g'],
];

function boundaryValues(schema: JsonSchema): [string, unknown][] {
  const out: [string, unknown][] = [];
  if (schema.type === 'string') {
    for (const length of [schema.minLength, schema.maxLength]) {
      if (length === undefined) continue;
      for (const n of [length - 1, length, length + 1]) if (n >= 0) out.push([`length ${n}`, 'a'.repeat(n)]);
    }
  }
  if (schema.type === 'integer' || schema.type === 'number') {
    for (const bound of [schema.minimum, schema.maximum]) {
      if (bound === undefined) continue;
      for (const n of [bound - 1, bound, bound + 1]) out.push([`value ${n}`, n]);
    }
  }
  return out;
}

const TEXT_ATTACKS = new Set(['NUL', 'lone surrogate', '10,000-char string']);
const JSON_ATTACKS = new Set(['__proto__ key', 'constructor.prototype key', '10,000-level nesting']);
const named = (names: Set<string>) => hostileValues.filter(([name]) => names.has(name));
const wideObject = new Raw(
  JSON.stringify(Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]))),
);
const jsonAttacks: [string, unknown][] = [
  ...named(JSON_ATTACKS),
  ['50,000-key object', wideObject],
  ['NUL inside JSON', { note: 'a\u0000b', 'k\u0000': 1 }],
  ['integer beyond 2^53 inside JSON', { n: new Raw('9007199254740993') }],
];

/** Hostile values aimed at what a property is: text, free-form JSON, a bounded number. */
function aimedAt(schema: JsonSchema): [string, unknown][] {
  const type = schema.type ?? (schema.anyOf ?? schema.oneOf)?.find((s) => s.type)?.type;
  const text = type === 'string' ? named(TEXT_ATTACKS) : [];
  const json = type === undefined || (type === 'object' && !schema.properties) ? jsonAttacks : [];
  return [...text, ...json, ...boundaryValues(schema)];
}

const hostileFor = (schema: JsonSchema) =>
  fc.constantFrom(...hostileValues, ...boundaryValues(schema), ['missing', OMIT] as [string, unknown]);

const isIdLike = (name: string) => name === 'id' || /Id$|_id$/.test(name);

/** A value the schema accepts (mostly): what a normal client sends, so hostile parts reach deep code. */
export function validValue(schema: JsonSchema, name = ''): fc.Arbitrary<Value> {
  const inner = plainValid(schema, name);
  const withPool = isIdLike(name)
    ? fc.oneof(
        inner,
        fc.nat().map((n) => new PoolPick(n)),
      )
    : inner;
  return schema.nullable
    ? fc.oneof({ arbitrary: withPool, weight: 4 }, { arbitrary: fc.constant(null), weight: 1 })
    : withPool;
}

function plainValid(schema: JsonSchema, name: string): fc.Arbitrary<Value> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union?.length) return fc.oneof(...union.map((s) => validValue(s, name)));
  // A string's allOf holds its further patterns (validString reads them).
  if (schema.allOf?.length && schema.type !== 'string') return validValue(schema.allOf[0]!, name);
  switch (schema.type) {
    case 'string':
      return validString(schema, name);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case 'number': {
      const step = schema.multipleOf ?? 0.25;
      const min = Math.ceil((schema.minimum ?? -1000) / step);
      const max = Math.floor((schema.maximum ?? 1000) / step);
      return fc.integer({ min, max }).map((n) => Number((n * step).toFixed(6)));
    }
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(validValue(schema.items ?? {}), { maxLength: 3 });
    case 'object':
      return validObject(schema);
    default:
      return smallJson;
  }
}

// Free-form JSON a client would send: fast-check's jsonValue includes doubles beyond 2^53, hostile on their own.
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.boolean(),
  fc.constant(null),
);
const smallJson = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })),
  {
    maxKeys: 4,
  },
);

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/);
/** Fields whose schema alone does not say what a valid value looks like (a refine, a pipe): by name. */
const BY_NAME: [RegExp, fc.Arbitrary<string>][] = [
  [/email/i, fc.tuple(word, word).map(([user, host]) => `${user}@${host}.example.com`)],
  [/password/i, word.map((w) => `Pw1-${w}-long-enough`)],
  [/timezone/i, fc.constantFrom('UTC', 'Europe/Paris', 'America/Los_Angeles', 'Asia/Tokyo')],
];

// safeText's rules (no NUL, no lone surrogate): every stored string has them, they shape nothing generated.
const TEXT_RULES = new Set(['^[^\u0000]*$', '^\\P{Cs}*$']);

function validString(schema: JsonSchema, name: string): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, 200);
  const patterns = [schema.pattern, ...(schema.allOf ?? []).map((part) => part.pattern)].filter(
    (pattern): pattern is string => pattern !== undefined,
  );
  const regexes = patterns.map((pattern) => new RegExp(pattern, 'u'));
  const fits = (s: string) => s.length >= min && s.length <= max && regexes.every((regex) => regex.test(s));
  const named = BY_NAME.find(([pattern]) => pattern.test(name))?.[1];
  if (named) return named.filter(fits);
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date':
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    case 'date-time':
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
        .map((d) => d.toISOString());
  }
  const shaping = patterns.filter((pattern) => !TEXT_RULES.has(pattern)).at(-1);
  if (shaping !== undefined) return fc.stringMatching(new RegExp(shaping, 'u')).filter(fits);
  return fc.string({ minLength: min, maxLength: max, unit: 'grapheme' }).filter(fits);
}

function validObject(schema: JsonSchema): fc.Arbitrary<Value> {
  const properties = schema.properties ?? {};
  const model: Record<string, fc.Arbitrary<Value>> = {};
  for (const [key, property] of Object.entries(properties)) model[key] = validValue(property, key);
  if (!Object.keys(model).length) return smallJson;
  return fc.record(model, { requiredKeys: (schema.required ?? []).filter((key) => key in model) });
}

/** Replaces (or removes) one property of a generated object with a hostile value; returns the label. */
/** The property a body mutation targets: one past the declared ones is an unknown key. */
function targetKey(schema: JsonSchema, pick: number): string | undefined {
  const properties = Object.keys(schema.properties ?? {});
  if (!properties.length) return undefined;
  const index = pick % (properties.length + 1);
  return index === properties.length ? 'unknownField' : properties[index];
}

/** Replaces (or removes) one property of a generated object with a hostile value; returns the label. */
function mutateBody(body: Value, key: string | undefined, hostile: [string, unknown]): [Value, string] {
  if (key === undefined || body === null || typeof body !== 'object' || Array.isArray(body))
    return [hostile[1], `body: ${hostile[0]}`];
  const copy: Record<string, unknown> = Object.assign(Object.create(null), body);
  if (hostile[1] === OMIT) delete copy[key];
  else copy[key] = hostile[1];
  return [copy, `body.${key}: ${hostile[0]}`];
}

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/xml',
];

function parameterValues(parameters: Parameter[]): fc.Arbitrary<Record<string, Value>> {
  const model: Record<string, fc.Arbitrary<Value>> = {};
  for (const p of parameters) model[p.name] = validValue(p.schema, p.name);
  return fc.record(model, { requiredKeys: parameters.filter((p) => p.required).map((p) => p.name) });
}

/** One request to `operation`: valid in every part but one, which is hostile (or sometimes all valid). */
export function requestFor(operation: Operation): fc.Arbitrary<FuzzRequest> {
  const base = fc.record({
    path: parameterValues(operation.pathParams),
    query: parameterValues(operation.query),
    body: operation.body ? validValue(operation.body) : fc.constant(OMIT),
  });
  const targets: string[] = ['none'];
  if (operation.pathParams.length) targets.push('path');
  if (operation.query.length) targets.push('query');
  if (operation.body) targets.push('body', 'body', 'body', 'wholeBody', 'contentType');
  return fc
    .tuple(
      base,
      fc.constantFrom(...targets),
      fc.nat(),
      hostileFor(operation.body ?? {}),
      fc.constantFrom(...hostileParams),
      fc.constantFrom(...CONTENT_TYPES, undefined),
    )
    .map(([request, target, pick, hostile, hostileParam, contentType]): FuzzRequest => {
      const out: FuzzRequest = { operation, ...request, contentType: 'json', label: 'valid' };
      if (target === 'path' || target === 'query') {
        const parameters = target === 'path' ? operation.pathParams : operation.query;
        const name = parameters[pick % parameters.length]!.name;
        out[target] = { ...out[target], [name]: hostileParam[1] };
        out.label = `${target}.${name}: ${hostileParam[0]}`;
      } else if (target === 'body') {
        const schema = operation.body!;
        const key = targetKey(schema, pick);
        // Half the time a value aimed at the property's type (NUL in text, depth in JSON, its boundaries).
        const aimed = aimedAt(key === undefined ? schema : (schema.properties?.[key] ?? {}));
        const chosen = aimed.length && pick % 2 === 0 ? aimed[Math.floor(pick / 2) % aimed.length]! : hostile;
        [out.body, out.label] = mutateBody(out.body, key, chosen);
      } else if (target === 'wholeBody') {
        out.body = hostile[1];
        out.label = `whole body: ${hostile[0]}`;
      } else if (target === 'contentType') {
        out.contentType = contentType;
        out.label = `content-type: ${contentType ?? 'missing'}`;
      }
      return out;
    });
}
