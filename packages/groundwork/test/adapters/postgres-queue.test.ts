/**
 * adapters/postgres-queue.ts stands in for postgres.js's `src/queue.js`. This file pins the postgres.js version
 * and that file's source, checks that the stand-in answers every sequence of calls as postgres.js's own does
 * while its array stays bounded, and that the CLI's hook hands it to postgres.js. When the pin fails after an
 * upgrade, re-read postgres.js's src/queue.js and how src/index.js moves connections between queues: if
 * `shift` no longer leaves slots behind or `remove` searches only live ones, the adapter can go.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import Queue, { isPostgresQueue } from '../../src/adapters/postgres-queue.ts';
import { installedPostgres } from '../support/postgres-clients.ts';

const WRITTEN_FOR = '3.4.9';
const QUEUE_SOURCE_SHA256 = '15e6345adb6708bf3b99ad39fc2231c2fb61de5f6cba4b7a7a6be881482a4ec3';
const RECHECK = "adapters/postgres-queue.ts stands in for postgres.js's src/queue.js: re-check it";
const queueUrl = new URL('./queue.js', import.meta.resolve('postgres')).href;
const queueFile = fileURLToPath(queueUrl);
const { default: PostgresJsQueue } = (await import(queueUrl)) as { default: typeof Queue };

type Op = { kind: 'push' | 'remove'; item: number } | { kind: 'shift' };

describe(`adapters/postgres-queue.ts, written for postgres ${WRITTEN_FOR}`, () => {
  it('runs on the postgres.js version, and the queue source, it was written for', () => {
    expect(installedPostgres, `postgres is ${installedPostgres}: ${RECHECK}`).toBe(WRITTEN_FOR);
    const digest = createHash('sha256').update(readFileSync(queueFile)).digest('hex');
    expect(digest, `postgres's src/queue.js changed: ${RECHECK}`).toBe(QUEUE_SOURCE_SHA256);
  });

  it("answers every sequence of calls as postgres.js's queue does", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), item: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant('remove' as const), item: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant('shift' as const) }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 })),
        fc.array(op, { maxLength: 400 }),
        (start, ops) => {
          // Objects, as postgres.js queues connections and statements: removal is by identity.
          const items = Array.from({ length: 21 }, (_, i) => ({ i }));
          const theirs = PostgresJsQueue(start.map((i) => items[i]));
          const ours = Queue(start.map((i) => items[i]));
          for (const step of ops as Op[]) {
            // postgres.js never shifts an empty queue (it checks `length` first).
            if (step.kind === 'shift' && theirs.length === 0) continue;
            const call = (queue: typeof ours) =>
              step.kind === 'shift' ? queue.shift() : queue[step.kind](items[step.item]!);
            expect(call(ours)).toBe(call(theirs));
            expect(ours.length).toBe(theirs.length);
          }
        },
      ),
    );
  });

  it('holds a bounded array when it never runs empty, as a busy pool keeps it', () => {
    const queue = Queue<object>();
    const connections = [{}, {}, {}];
    for (const connection of connections) queue.push(connection);
    for (let i = 0; i < 100_000; i++) {
      const taken = queue.shift()!;
      expect(queue.remove(taken)).toBeNull();
      queue.push(taken);
    }
    expect(queue.length).toBe(3);
    expect(queue.slots).toBeLessThan(3 * 2 + 64 * 2);
  });

  it("is what postgres.js's ES module build imports once the hook is registered", () => {
    const script = `
      const { registerPostgresQueue } = await import(process.env.ADAPTER_URL);
      registerPostgresQueue();
      const { default: postgres } = await import('postgres');
      postgres('postgres://nobody@127.0.0.1:9/none', { fetch_types: false });
      console.log(import.meta.resolve(process.env.QUEUE_URL));
    `;
    const adapterUrl = new URL('../../src/adapters/postgres-queue.ts', import.meta.url).href;
    const output = execFileSync(process.execPath, ['--input-type=module', '--eval', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, ADAPTER_URL: adapterUrl, QUEUE_URL: queueUrl },
      encoding: 'utf8',
    });
    expect(output.trim()).toBe(adapterUrl);
    expect(isPostgresQueue(queueUrl)).toBe(true);
    expect(isPostgresQueue(adapterUrl)).toBe(false);
  });
});
