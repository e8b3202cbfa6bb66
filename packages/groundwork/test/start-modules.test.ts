import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * In a fresh process (vitest's own module loader would hide what Node loads): the modules `serve` imports, a
 * server built and ready, then its first response. A hook records every module resolved, ES or CommonJS.
 */
const script = `
import { registerHooks } from 'node:module';
const resolved = [];
registerHooks({
  resolve(specifier, context, next) {
    const answer = next(specifier, context);
    resolved.push(answer.url);
    return answer;
  },
});
const loaded = () => ({
  undici: process.moduleLoadList.some((name) => name.includes('undici')),
  ajv: resolved.some((url) => url.includes('/node_modules/ajv/')),
  fastJsonStringify: resolved.some((url) => url.includes('/node_modules/fast-json-stringify/index.js')),
  nodemailer: resolved.some((url) => url.includes('/node_modules/nodemailer/')),
});
await import('./src/cli/commands/serve.ts');
await import('./src/runtime.ts');
const { buildServer } = await import('./src/server.ts');
const server = await buildServer([], { mount: 'prefixed', logLevel: 'silent' });
await server.ready();
const ready = loaded();
const { statusCode } = await server.inject({ url: '/health' });
console.log(JSON.stringify({ ready, statusCode, answered: loaded() }));
await server.close();
`;

describe('a server as it starts', { timeout: 60_000 }, () => {
  it('loads what only a request, a message or a metrics listener needs when one comes, not before', () => {
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
    });
    const { ready, statusCode, answered } = JSON.parse(output.trim().split('\n').at(-1)!);
    // undici: Node's ES module view of node:http loads it; ajv: Fastify's default compilers and
    // fast-json-stringify's own; nodemailer: its ES module build imports node:http.
    expect(ready).toEqual({ undici: false, ajv: false, fastJsonStringify: false, nodemailer: false });
    // The first response compiles its serializer: the hook above sees what is loaded when it is.
    expect(statusCode).toBe(200);
    expect(answered.fastJsonStringify).toBe(true);
  });
});
