import type postgres from 'postgres';

/**
 * Relies on: postgres.js 3.4's connection `build()` setting `q.describeFirst` on each Query it sends (as
 * `q.onlyDescribe || (parameters.length && !q.prepared)`) and then reading it: true sends Parse, Describe,
 * Flush and waits for the server's parameter types to send Bind, Execute, Sync; false, for an unnamed
 * statement, sends Parse, Describe, Bind, Execute, Sync in one write (its `unnamed()`, otherwise used only
 * for statements without parameters). Bind serialises a parameter with `options.serializers[type]`, where
 * `type` is what postgres.js inferred (Date 1184, Uint8Array 17, boolean 16, bigint 20) or else the
 * server's, learned from the describe; without it, type 0 is sent, which serialises as `'' + value` and
 * lets the server infer the type from the statement.
 *
 * Why: a statement that cannot be named (a transaction pooler that does not keep names) would otherwise cost
 * two round trips. For a string, a number or null, `'' + value` is the text the server parses anyway, so
 * only statements whose parameters are all such values, or carry their own inferred type, skip the
 * describe: an array, an object or anything else keeps it, since its text form needs the server's type
 * (an array serialiser). This holds for a client Drizzle has set up, as our pools are: it makes the json
 * and date serialisers pass its own text through, where postgres.js's would re-encode a string (JSON-quote
 * it, re-read it as a JS Date). The one difference left corrects postgres.js: its boolean serialiser reads a
 * string or number given for a boolean parameter as false unless it is `true` itself; the server reads the
 * text ('true', '1').
 *
 * Written for postgres 3.4.9: test/adapters/postgres-one-trip.test.ts pins that version and counts, on a
 * server, the writes a statement takes with and without this.
 */

/** The parts of postgres.js's Query (src/query.js, connection.js) this adapter reads. */
interface QueryInternals {
  args: unknown[];
  prepare?: boolean;
  onlyDescribe?: boolean;
  [DESCRIBE_FIRST]?: unknown;
}

const DESCRIBE_FIRST = Symbol('describeFirst');

/**
 * One accessor for every query, so they all keep one shape: `.describe()` and a named statement keep
 * postgres.js's value; an unnamed statement is never described first.
 */
const ONE_TRIP: PropertyDescriptor & ThisType<QueryInternals> = {
  configurable: true,
  get() {
    return this[DESCRIBE_FIRST];
  },
  set(value: unknown) {
    this[DESCRIBE_FIRST] = this.onlyDescribe || this.prepare ? value : false;
  },
};

/** Whether postgres.js serialises `value` the same without the server's type for it. */
function needsNoServerType(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return true;
    case 'object':
      return value === null || value instanceof Date || value instanceof Uint8Array;
    default:
      return false;
  }
}

/**
 * `query` (from `unsafe()`, not yet executed) sent in one round trip when it runs unnamed and its
 * parameters allow (see above); otherwise as postgres.js would.
 */
export function inOneRoundTrip<Q>(query: Q): Q {
  const q = query as unknown as QueryInternals;
  if (q.args.length > 0 && q.args.every(needsNoServerType))
    Object.defineProperty(q, 'describeFirst', ONE_TRIP);
  return query;
}

type Scope = Pick<postgres.TransactionSql, 'unsafe' | 'savepoint'>;

/**
 * A transaction's `sql` (and its savepoints') whose `unsafe()` statements go through `inOneRoundTrip`:
 * Drizzle runs a transaction's statements on it.
 */
export function oneRoundTripScope<S extends Scope>(scope: S): S {
  const unsafe = scope.unsafe;
  const savepoint = scope.savepoint as (...args: unknown[]) => unknown;
  scope.unsafe = ((...args: Parameters<S['unsafe']>) =>
    inOneRoundTrip(unsafe.apply(scope, args))) as S['unsafe'];
  // savepoint(callback) or savepoint(name, callback): the callback is last.
  scope.savepoint = ((...args: unknown[]) => {
    const callback = args.pop() as (sql: Scope) => unknown;
    return savepoint.call(scope, ...args, (sql: Scope) => callback(oneRoundTripScope(sql)));
  }) as S['savepoint'];
  return scope;
}
