import Fastify from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorHandler } from '../src/http/errors.ts';
import { serializerCompiler } from '../src/http/serialize.ts';

const User = z.strictObject({
  id: z.uuid(),
  email: z.string(),
  motivation: z.string().nullable(),
  migrations: z.object({ current: z.string().nullable(), pending: z.number() }).nullable(),
});
const row = {
  id: '0b5a1c3e-8f6d-4b2a-9c1e-2f3a4b5c6d7e',
  email: 'ann@example.com',
  motivation: null,
  migrations: { current: '20261122', pending: 0 },
};
const compile = (schema: z.ZodType) =>
  serializerCompiler({ schema, method: 'GET', url: '/', httpStatus: '200' });

describe('response serialization compiled from the zod schema', () => {
  it('writes only what a strict object declares: a password hash left in a row never leaves', () => {
    const json = compile(User)({
      ...row,
      hashed_password: '$argon2id$v=19$secret',
      migrations: { ...row.migrations, internal: 'x' },
    });
    expect(JSON.parse(json)).toEqual(row);
    expect(json).not.toContain('argon2');
    expect(json).not.toContain('internal');
  });

  it('does the same for plain objects and for objects inside arrays (a list page)', () => {
    const Page = z.object({ data: z.array(User), count: z.number() });
    const json = compile(Page)({ data: [{ ...row, hashed_password: 'h' }], count: 1, debug: 'd' });
    expect(JSON.parse(json)).toEqual({ data: [row], count: 1 });
  });

  it('fails a response that lacks a required field instead of sending a partial body', () => {
    const { email: _, ...partial } = row;
    expect(() => compile(User)(partial)).toThrow(/email/);
  });

  it('compiles a schema shared by many routes once', () => {
    expect(compile(User)).toBe(compile(User));
  });

  it('compiles at the first response, not when the route is registered', () => {
    let read = false;
    const Named = z.object({
      name: z.lazy(() => {
        read = true;
        return z.string();
      }),
    });
    const serialize = compile(Named);
    expect(read).toBe(false);
    expect(serialize({ name: 'Ann', extra: 1 })).toBe('{"name":"Ann"}');
    expect(read).toBe(true);
  });

  it('keeps zod for a union other than `| null` (fast-json-stringify would validate each branch)', () => {
    const Shape = z.union([
      z.object({ kind: z.literal('a'), a: z.number() }),
      z.object({ kind: z.literal('b') }),
    ]);
    expect(compile(Shape)({ kind: 'a', a: 1, secret: 's' })).toBe('{"kind":"a","a":1}');
  });

  it('keeps zod for what JSON Schema cannot express (a Date)', () => {
    const Stamped = z.object({ at: z.date() });
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(compile(Stamped)({ at, extra: 1 })).toBe('{"at":"2026-01-02T03:04:05.678Z"}');
  });

  it('answers 500 in the error shape when a handler returns less than its schema', async () => {
    const app = Fastify().withTypeProvider<ZodTypeProvider>();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    app.setErrorHandler(errorHandler);
    app.get('/user', { schema: { response: { 200: User } } }, async () => ({ id: row.id }) as never);
    app.get('/leaky', { schema: { response: { 200: User } } }, async () => ({ ...row, token: 't0ken' }));
    const broken = await app.inject({ url: '/user' });
    expect(broken.statusCode).toBe(500);
    expect(broken.json().error.code).toBe('internal_error');
    const leaky = await app.inject({ url: '/leaky' });
    expect(leaky.statusCode).toBe(200);
    expect(leaky.json()).toEqual(row);
  });
});
