import { registerHooks } from 'node:module';

/**
 * Relies on: postgres.js 3.4 keeping its pool's connection queues (open, busy, full, closed, …) and each
 * connection's statements in `Queue`s from its `src/queue.js` (default export: `Queue(initial)`, an object
 * with `length`, `push`, `shift` and `remove`), imported as `./queue.js` by its ES module build; and on
 * Node's synchronous module hooks (`registerHooks`), which answer that import with this module instead.
 *
 * Why: postgres.js's `shift` leaves the taken slot in its array and forgets the array only when a shift
 * empties the queue, and `remove` searches the array from its first slot. Its pool takes a connection off
 * `open` (or `busy`, to pipeline) with `shift` and moves it on with `remove` from the queue it was on. Under
 * steady traffic with two idle connections or more, or with every connection busy, those queues never run
 * empty: each statement adds a slot that every later move searches, without end. A server under load got
 * slower by the minute (docs/performance.md, "A pool that slows down"); a restart reset it. This queue
 * keeps postgres.js's behaviour (same order, same answers), drops taken slots once they are half the array,
 * and searches only the live slots.
 *
 * Written for postgres 3.4.9: test/adapters/postgres-queue.test.ts pins the version and the source of its
 * queue, and checks this one answers as it does.
 */

/** Taken slots dropped at once when there are at least this many and they are half the array or more. */
const COMPACT_AT = 64;

export interface PostgresQueue<T> {
  readonly length: number;
  /** Array slots held, live or taken: bounded by about twice the live ones (tests read it). */
  readonly slots: number;
  push(item: T): T;
  shift(): T | undefined;
  remove(item: T): T | null;
}

export default function Queue<T>(initial: T[] = []): PostgresQueue<T> {
  let items = initial.slice();
  let head = 0;
  return {
    get length() {
      return items.length - head;
    },
    get slots() {
      return items.length;
    },
    push: (item) => {
      items.push(item);
      return item;
    },
    shift: () => {
      const out = items[head++];
      if (head >= items.length) {
        items = [];
        head = 0;
      } else if (head >= COMPACT_AT && head * 2 >= items.length) {
        items = items.slice(head);
        head = 0;
      } else {
        (items as (T | undefined)[])[head - 1] = undefined;
      }
      return out;
    },
    remove: (item) => {
      const at = items.indexOf(item, head);
      if (at === -1) return null;
      items.splice(at, 1);
      return item;
    },
  };
}

/** Whether `url` is postgres.js's queue module (its ES module build, wherever it is installed). */
export const isPostgresQueue = (url: string) => /\/node_modules\/postgres\/src\/queue\.js$/.test(url);

/**
 * From now on, postgres.js's ES module build loaded in this process takes its queues from this module. Call it
 * before postgres.js is first imported (the CLI does; a program of your own can `node --import
 * groundwork-pg/postgres-queue`): a copy already loaded keeps its own.
 */
export function registerPostgresQueue(): void {
  const self = import.meta.url;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      return isPostgresQueue(resolved.url) ? { ...resolved, url: self, shortCircuit: true } : resolved;
    },
  });
}
