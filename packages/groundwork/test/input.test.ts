import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { boundedJson, boundedJsonObject, safeText } from '../src/index.ts';
import { setupTestApp } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';

const t = setupTestApp(notes);

const nested = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};

async function author(email = 'ann@example.com'): Promise<string> {
  const response = await t.server.inject({ method: 'POST', url: '/authors', payload: { email } });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

/** `{"a":{"a":...1}}` as text: serializing a deep object would overflow the stack of the client. */
const nestedText = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

const countNotes = async () => {
  const response = await t.server.inject({ url: '/count-notes' });
  return response.json().notes as number;
};

describe('safeText', () => {
  it('refuses NUL and lone surrogates, keeps chaining and well-formed text', () => {
    const name = safeText().trim().min(1).max(5);
    expect(name.safeParse(' ab ').data).toBe('ab');
    expect(name.safeParse('😀').success).toBe(true);
    expect(name.safeParse('a\u0000b').error?.issues[0]?.message).toMatch(/NUL/);
    expect(name.safeParse('a\ud800').error?.issues[0]?.message).toMatch(/unpaired surrogate/);
    expect(name.safeParse('toolong').success).toBe(false);
  });
});

describe('boundedJson', () => {
  const field = z.object({ data: boundedJsonObject() });
  const problem = (data: unknown) => field.safeParse({ data }).error?.issues[0];

  it('accepts ordinary JSON up to 32 levels', () => {
    expect(field.safeParse({ data: { a: [1, 'x', null, { b: true }], constructor: 'ok' } }).success).toBe(
      true,
    );
    expect(problem(nested(32))).toBeUndefined();
  });

  it('refuses depth, size, NUL, unsafe integers and __proto__, naming the path', () => {
    expect(problem(nested(33))).toMatchObject({ message: 'must not nest deeper than 32 levels' });
    expect(problem(nested(10_000))?.message).toMatch(/deeper than 32/);
    expect(
      problem(Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])))?.message,
    ).toMatch(/at most 65536 bytes/);
    expect(problem({ a: { b: 'x\u0000' } })).toMatchObject({ path: ['data', 'a', 'b'] });
    expect(problem({ 'k\u0000': 1 })?.message).toMatch(/key must not contain the NUL/);
    expect(problem({ n: 2 ** 53 })).toMatchObject({
      path: ['data', 'n'],
      message: expect.stringMatching(/2\^53/),
    });
    expect(
      boundedJson().safeParse(JSON.parse('{"__proto__": {"admin": true}}')).error?.issues[0],
    ).toMatchObject({
      path: ['__proto__'],
      message: 'key must not be __proto__',
    });
    expect(boundedJson().safeParse([1.5, -(2 ** 53 - 1)]).success).toBe(true);
  });
});

describe('hostile input reaching the database', () => {
  it('maps a NUL in a text column (22021) to 400 naming the field, storing nothing', async () => {
    const authorId = await author();
    const response = await t.server.inject({
      method: 'POST',
      url: '/notes',
      payload: { authorId, body: 'before\u0000after' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toEqual({
      code: 'invalid_value',
      message: 'body: must not contain the NUL character (\\u0000)',
      fields: [{ field: 'body', message: 'must not contain the NUL character (\\u0000)' }],
    });
    expect(await countNotes()).toBe(0);
  });

  it('maps other data exceptions (class 22) to 400', async () => {
    // 22001: the value is longer than varchar(255).
    const response = await t.server.inject({
      method: 'POST',
      url: '/authors',
      payload: { email: `${'a'.repeat(300)}@example.com` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_value');
  });
});

describe('the body guard every app gets', () => {
  it('refuses whole numbers beyond 2^53 (JSON.parse rounds them) naming the field', async () => {
    const authorId = await author();
    const response = await t.server.inject({
      method: 'POST',
      url: '/notes',
      headers: { 'content-type': 'application/json' },
      payload: `{"authorId":"${authorId}","body":"x","stars":9007199254740993}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.fields).toEqual([
      { field: 'stars', message: expect.stringMatching(/2\^53/) },
    ]);
    // Also where no schema looks (a key the route strips): the client meant another number than we read.
    const unknown = await t.server.inject({
      method: 'POST',
      url: '/notes',
      headers: { 'content-type': 'application/json' },
      payload: `{"authorId":"${authorId}","body":"x","extra":{"n":-9007199254740993}}`,
    });
    expect(unknown.json().error.fields).toEqual([{ field: 'extra.n', message: expect.any(String) }]);
    expect(await countNotes()).toBe(0);
  });

  it('refuses a 10,000-level nesting with 400 instead of recursing into it', async () => {
    const authorId = await author();
    const response = await t.server.inject({
      method: 'POST',
      url: '/notes',
      headers: { 'content-type': 'application/json' },
      payload: `{"authorId":"${authorId}","body":"x","extra":${nestedText(10_000)}}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.fields[0]).toEqual({
      field: `extra${'.a'.repeat(63)}`,
      message: 'must not nest deeper than 64 levels',
    });
    expect(await countNotes()).toBe(0);
  });
});

describe('URLs the router refuses', () => {
  it('answer in the error shape without echoing the URL: bad percent-encoding (400), overlong parameter (414)', async () => {
    const bad = await t.server.inject({ url: '/authors/a%ed%a0%80' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      error: { code: 'bad_url', message: 'the URL is not valid (malformed percent-encoding)' },
      requestId: expect.any(String),
    });
    const long = await t.server.inject({ url: `/authors/${'1'.repeat(10_000)}` });
    expect(long.statusCode).toBe(414);
    expect(long.json()).toEqual({
      error: { code: 'path_parameter_too_long', message: 'a path parameter is too long' },
      requestId: expect.any(String),
    });
  });
});
