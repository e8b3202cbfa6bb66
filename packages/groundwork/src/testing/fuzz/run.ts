import fc from 'fast-check';
import type { DatabaseHandle } from '../../database/open.ts';
import { withSession } from '../../database/sessions.ts';
import type { AppServer } from '../../http/app-server.ts';
import { errorBodySchema } from '../../http/errors.ts';
import { MIGRATIONS_TABLE, RATE_LIMITS_TABLE } from '../../migrations/bookkeeping.ts';
import { OMIT, PoolPick, Raw, requestFor, type Value } from './arbitraries.ts';
import { contractOf, type OperationContract, type SentRequest } from './contract.ts';
import { type Operation, operationsOf } from './openapi.ts';

export interface FuzzOptions {
  seed: number;
  runs: number;
  /** Strings no response may contain (key material, say); request fields named like secrets are added. */
  secrets?: string[];
}

export interface FuzzCounts {
  requests: number;
  byStatus: Record<string, number>;
  serverErrors: number;
  /** Requests answered 4xx after which some table's content differed. */
  refusedChangedRows: number;
  /** Requests valid by the app's OpenAPI document (the rest break it on purpose). */
  validByDocument: number;
  /** Answers with a status the operation does not list. */
  undocumentedStatuses: number;
  /** Answers whose body is not what the document says for their status. */
  schemaMismatches: number;
  /** Requests valid by the document refused with 400. */
  validRefused: number;
}

export const emptyCounts = (): FuzzCounts => ({
  requests: 0,
  byStatus: {},
  serverErrors: 0,
  refusedChangedRows: 0,
  validByDocument: 0,
  undocumentedStatuses: 0,
  schemaMismatches: 0,
  validRefused: 0,
});

export class FuzzFailure extends Error {
  override name = 'FuzzFailure';
  readonly seed: number;
  readonly counts: FuzzCounts;
  constructor(message: string, seed: number, counts: FuzzCounts) {
    super(message);
    this.seed = seed;
    this.counts = counts;
  }
}

const SECRET_FIELD = /pass|token|secret/i;
// A password hash or a sealed value in a response is a leak whatever the request was.
const NEVER_IN_RESPONSE = [/\$argon2/, /\bv[12]\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{20,}/];

/**
 * One digest of every table's rows (migration bookkeeping and rate-limit counters aside, which a refused request
 * may count): equal before and after = nothing changed.
 */
async function tableDigest(handle: DatabaseHandle): Promise<string> {
  return withSession(handle, async (session) => {
    const tables = await session.query<{ name: string }>(
      `select format('%I.%I', schemaname, tablename) as name from pg_tables
        where schemaname not in ('pg_catalog', 'information_schema') and tablename not in ($1, $2) order by 1`,
      [MIGRATIONS_TABLE, RATE_LIMITS_TABLE],
    );
    if (!tables.length) return '';
    const parts = tables.map(
      ({ name }) => `(select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from ${name} t)`,
    );
    const [row] = await session.query<{ digest: string }>(`select ${parts.join(` || ',' || `)} as digest`);
    return row?.digest ?? '';
  });
}

/** encodeURIComponent throws on a lone surrogate; send the bytes a careless client would (CESU-8). */
function encodeLoose(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff)
      out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`;
    else out += encodeURIComponent(char);
  }
  return out;
}

function serialize(value: Value, pool: unknown[]): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof PoolPick) return JSON.stringify(pick(value, pool));
  if (Array.isArray(value)) return `[${value.map((item) => serialize(item, pool)).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}:${serialize(item, pool)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

const pick = (value: PoolPick, pool: unknown[]) =>
  pool.length ? pool[value.index % pool.length] : value.index;

function paramText(value: Value, pool: unknown[]): string {
  if (value instanceof PoolPick) return String(pick(value, pool));
  if (value instanceof Raw) return value.text;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The parameters as the text a client sends. */
function parameterTexts(values: Record<string, Value>, pool: unknown[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values)
      .filter(([, value]) => value !== undefined && value !== OMIT)
      .map(([name, value]) => [name, paramText(value, pool)]),
  );
}

function urlOf(operation: Operation, path: Record<string, string>, query: Record<string, string>): string {
  let url = operation.path;
  for (const [name, value] of Object.entries(path)) url = url.replace(`{${name}}`, encodeLoose(value));
  const search = Object.entries(query).map(
    ([name, value]) => `${encodeURIComponent(name)}=${encodeLoose(value)}`,
  );
  return search.length ? `${url}?${search.join('&')}` : url;
}

const fieldsOf = (body: string): string[] => {
  const parsed = errorBodySchema.safeParse(JSON.parse(body));
  return parsed.success ? (parsed.data.error.fields ?? []).map((issue) => issue.field) : [];
};

/**
 * What the answer breaks in the document: an unlisted status, a body outside the status's schema, or a
 * request valid by the document refused as invalid for a rule it does not state. An empty path parameter addresses another path
 * (`/users/` is `/users`), so that answer is not this operation's.
 */
function contractProblem(
  contract: OperationContract,
  sent: SentRequest,
  validByDocument: boolean,
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  counts: FuzzCounts,
): string | undefined {
  const status = response.statusCode;
  if (Object.values(sent.path).includes('')) return undefined;
  if (!contract.lists(status)) {
    counts.undocumentedStatuses++;
    return `status ${status} is not listed for the operation`;
  }
  const contentType = response.headers['content-type'] as string | undefined;
  const mismatch = contract.responseProblem(status, contentType, response.body);
  if (mismatch !== undefined) {
    counts.schemaMismatches++;
    return `the ${status} answer is not its documented schema: ${mismatch}`;
  }
  if (validByDocument && status === 400 && !contract.statesRule(fieldsOf(response.body))) {
    counts.validRefused++;
    return 'a request valid by the document was refused with 400';
  }
  return undefined;
}

/** Strings sent in fields whose names say they are secret. */
function sentSecrets(value: Value, into: string[], key = ''): void {
  if (typeof value === 'string' && SECRET_FIELD.test(key) && value.length >= 4) into.push(value);
  else if (value !== null && typeof value === 'object' && !(value instanceof Raw))
    for (const [k, v] of Object.entries(value)) sentSecrets(v, into, k);
}

/** Ids from successful responses (`id`, `data[].id`, `items[].id`), for later requests to reach real rows. */
function harvestIds(body: unknown, pool: unknown[]): void {
  const rows = [body, ...['data', 'items'].flatMap((key) => (body as Record<string, unknown>)?.[key] ?? [])];
  for (const row of rows as Record<string, unknown>[]) {
    const id = row?.id;
    if ((typeof id === 'string' || typeof id === 'number') && !pool.includes(id)) pool.push(id);
  }
  if (pool.length > 200) pool.splice(0, pool.length - 200);
}

/**
 * Sends `runs` generated requests (seeded, reproducible) to every operation of the app's OpenAPI document
 * and checks each answer: no 5xx, the foundation's error shape on 4xx, no table changed by a refused request,
 * nothing secret in the response, and the document's word (listed status, documented body, no request valid
 * by it refused with 400). Throws FuzzFailure naming the seed and the request on the first violation.
 */
export async function fuzzServer(
  server: AppServer,
  handle: DatabaseHandle,
  { seed, runs, secrets = [] }: FuzzOptions,
): Promise<FuzzCounts> {
  const document = (await server.inject({ url: '/docs/json' })).json();
  const operations = operationsOf(document);
  const contracts = new Map(operations.map((operation) => [operation, contractOf(operation)]));
  const counts = emptyCounts();
  const pool: unknown[] = [];
  let failure: string | undefined;

  // Operations that take a body are where writes happen: they get most of the requests.
  const requests = fc.oneof(...operations.map((o) => ({ arbitrary: requestFor(o), weight: o.body ? 4 : 1 })));
  const property = fc.asyncProperty(requests, async (request) => {
    const path = parameterTexts(request.path, pool);
    const query = parameterTexts(request.query, pool);
    const url = urlOf(request.operation, path, query);
    const payload = request.body === OMIT ? undefined : serialize(request.body, pool);
    const headers: Record<string, string> = {};
    if (payload !== undefined && request.contentType)
      headers['content-type'] = request.contentType === 'json' ? 'application/json' : request.contentType;
    const contract = contracts.get(request.operation)!;
    const sent: SentRequest = { path, query, body: payload, contentType: headers['content-type'] };
    const validByDocument = contract.requestProblem(sent) === undefined;
    if (validByDocument) counts.validByDocument++;
    const before = await tableDigest(handle);
    const response = await server.inject({
      method: request.operation.method as 'GET',
      url,
      headers,
      payload,
    });
    counts.requests++;
    const status = response.statusCode;
    counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
    const sentBody = payload === undefined ? '' : ` ${payload.slice(0, 200)}`;
    const what = `${request.operation.method} ${url.slice(0, 200)}${sentBody} [${request.label}] -> ${status} ${response.body.slice(0, 300)}`;
    const fail = (reason: string) => {
      failure = `${reason}: ${what}`;
      return false;
    };
    if (status >= 500) {
      counts.serverErrors++;
      return fail('5xx');
    }
    const secretsSent: string[] = [...secrets];
    sentSecrets(request.body, secretsSent);
    for (const secret of secretsSent) if (response.body.includes(secret)) return fail('a secret was echoed');
    for (const pattern of NEVER_IN_RESPONSE)
      if (pattern.test(response.body)) return fail('a secret was echoed');
    const broken = contractProblem(contract, sent, validByDocument, response, counts);
    if (broken !== undefined) return fail(broken);
    if (status >= 400) {
      let body: unknown;
      try {
        body = response.json();
      } catch {
        return fail('a 4xx body that is not JSON');
      }
      if (!errorBodySchema.safeParse(body).success) return fail('a 4xx body not in the error shape');
      if ((await tableDigest(handle)) !== before) {
        counts.refusedChangedRows++;
        return fail('a refused request changed rows');
      }
    } else if (status < 300 && String(response.headers['content-type']).includes('json')) {
      harvestIds(response.json(), pool);
    }
    return true;
  });
  // State carries from request to request, so shrinking would replay against another database: stop at once.
  const details = await fc.check(property, { seed, numRuns: runs, endOnFailure: true });
  if (details.failed)
    throw new FuzzFailure(
      `hostile-input fuzzing failed (seed ${seed}; rerun with FUZZ_SEED=${seed}): ${failure ?? details.errorInstance}`,
      seed,
      counts,
    );
  return counts;
}
