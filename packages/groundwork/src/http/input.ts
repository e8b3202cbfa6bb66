import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppServer } from './app-server.ts';
import { type ColumnNames, columnNamesOf } from './field-names.ts';

/** Bounds of a free-form JSON field (boundedJson). */
export const JSON_LIMITS = { depth: 32, bytes: 64 * 1024 } as const;
/** The whole request body, whatever its schema: deeper than this only feeds recursion (stack overflows). */
export const BODY_DEPTH_MAX = 64;

const NUL = '\u0000';
// In a `u` regex a paired surrogate is one code point, so only unpaired halves match.
const LONE_SURROGATE = /\p{Cs}/u;
// From text: lint refuses a NUL in a regex literal, and NUL is exactly what this refuses.
const NO_NUL = new RegExp(`^[^${NUL}]*$`);
const NUL_MESSAGE = 'must not contain the NUL character (\\u0000)';
const SURROGATE_MESSAGE = 'must not contain unpaired surrogates (invalid Unicode)';

/** The first problem of a string PostgreSQL cannot store as text (NUL) or that is not valid UTF-16. */
function textProblem(value: string): string | undefined {
  if (value.includes(NUL)) return NUL_MESSAGE;
  if (LONE_SURROGATE.test(value)) return SURROGATE_MESSAGE;
  return undefined;
}

/**
 * A string PostgreSQL can store: no NUL (text columns refuse it with 22021) and no lone surrogate (it would
 * be stored as U+FFFD, so what is read back differs from what was sent). Chain `.trim().max(n)` as usual;
 * `safeText(z.email())` keeps a string format.
 */
export function safeText<T extends z.ZodString | z.ZodStringFormat = z.ZodString>(base?: T): T {
  const schema = (base ?? z.string()) as T;
  // As patterns, so the OpenAPI document states both rules.
  return schema.regex(NO_NUL, NUL_MESSAGE).regex(/^\P{Cs}*$/u, SURROGATE_MESSAGE) as T;
}

export interface JsonProblem {
  /** Path inside the value (`a.b.0`); empty for the value itself. */
  path: (string | number)[];
  message: string;
}

const isUnsafeNumber = (value: number) =>
  !Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value));

/**
 * Walks a parsed JSON value without recursion (a 10,000-level nesting must not overflow the stack) and
 * returns the first thing a bounded JSON field refuses. Numbers beyond 2^53 are already rounded by JSON.parse,
 * and rounding never brings them back into the safe range, so checking the parsed value is exact.
 */
export function jsonProblem(
  value: unknown,
  { depth = JSON_LIMITS.depth, text = true }: { depth?: number; text?: boolean } = {},
): JsonProblem | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string' && text) {
      const problem = textProblem(current);
      if (problem) return { path, message: problem };
    } else if (typeof current === 'number') {
      if (isUnsafeNumber(current))
        return { path, message: 'must be a number within +/-9007199254740991 (2^53 - 1) when whole' };
    } else if (current !== null && typeof current === 'object') {
      if (path.length >= depth) return { path, message: `must not nest deeper than ${depth} levels` };
      const entries: [string | number, unknown][] = Array.isArray(current)
        ? current.map((item, index) => [index, item])
        : Object.entries(current);
      for (const [key, item] of entries) {
        if (text && typeof key === 'string') {
          const problem = key === '__proto__' ? 'must not be __proto__' : textProblem(key);
          if (problem) return { path: [...path, key], message: `key ${problem}` };
        }
        stack.push({ value: item, path: [...path, key] });
      }
    }
  }
  return undefined;
}

/**
 * A free-form JSON field: at most 32 levels deep and 64 KiB serialized, no NUL or lone surrogate in any
 * string or key, whole numbers within the safe range, no `__proto__` key (Object.assign on such a value
 * would replace a prototype). `constructor` stays allowed: it is an ordinary word, and only
 * `constructor.prototype` is dangerous, which the body parser already refuses.
 */
export function boundedJson<T extends z.ZodType = z.ZodUnknown>(schema?: T) {
  return (schema ?? z.unknown()).check((context) => {
    const problem = jsonProblem(context.value);
    if (problem) {
      context.issues.push({
        code: 'custom',
        message: problem.message,
        path: problem.path,
        input: context.value,
      });
      return;
    }
    const bytes = Buffer.byteLength(JSON.stringify(context.value) ?? '');
    if (bytes > JSON_LIMITS.bytes)
      context.issues.push({
        code: 'custom',
        message: `must be at most ${JSON_LIMITS.bytes} bytes as JSON (got ${bytes})`,
        input: context.value,
      });
  }) as unknown as T;
}

/** A JSON object (not an array or a scalar) within boundedJson's limits. */
export const boundedJsonObject = () => boundedJson(z.record(z.string(), z.unknown()));

export class InputError extends Error {
  override name = 'InputError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/**
 * Every JSON body, before its route's schema runs: whole numbers beyond 2^53 (JSON.parse rounded them, so a
 * schema would see another number than the client sent) and nesting deeper than BODY_DEPTH_MAX are refused
 * with 400 naming the field. Text rules stay with each field's schema (safeText).
 */
function refuseHostileBody(request: FastifyRequest): void {
  if (request.body === null || typeof request.body !== 'object') {
    if (typeof request.body === 'number' && isUnsafeNumber(request.body))
      throw new InputError('body', 'must be a number within the safe integer range');
    return;
  }
  const problem = jsonProblem(request.body, { depth: BODY_DEPTH_MAX, text: false });
  if (problem) throw new InputError(problem.path.join('.') || 'body', problem.message);
}

const COLUMN_NAMES = Symbol.for('groundwork.columnNames');

/** Installed by defineApp around an app's routes: the body guard and the column -> API name map. */
export function guardInput(app: AppServer, schema: Record<string, unknown>): void {
  app.decorate(COLUMN_NAMES, columnNamesOf(schema));
  // Callback style: most requests (GET) have no body, and an async hook would cost each a promise.
  app.addHook('preValidation', (request, _reply, done) => {
    refuseHostileBody(request);
    done();
  });
}

export function columnNamesFor(request: FastifyRequest): ColumnNames | undefined {
  return (request.server as unknown as Record<symbol, ColumnNames | undefined>)[COLUMN_NAMES];
}

/**
 * A patch body that must change something: `{}` is refused with `message`, and the OpenAPI document says so
 * (`minProperties: 1`), so clients generated from it know.
 */
export function nonEmptyPatch<TShape extends z.ZodRawShape>(
  schema: z.ZodObject<TShape, z.core.$strict>,
  message = 'give at least one field to change',
) {
  return schema.refine((value) => Object.keys(value).length > 0, { message }).meta({ minProperties: 1 });
}
