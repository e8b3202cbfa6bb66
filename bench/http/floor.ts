/**
 * The floor for `npm run bench:http`: learnr's user contract served by plain Fastify and postgres.js with
 * hand-written SQL, named prepared statements and no logging. Never shipped; it shows what the driver and the
 * HTTP server cost on their own.
 *
 * FLOOR_AUTH=session: GET and PATCH of a user take the caller's login session token (learnr's
 * auth_sessions), checked in the same query that reads or writes the row: the least a session can cost.
 * Otherwise the credential is not read (the operator-key scenarios).
 *
 *   DATABASE_URL=postgres://... PORT=3001 [FLOOR_AUTH=session] node bench/http/floor.ts
 */
import { createHash } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import postgres from 'postgres';

const sql = postgres(process.env.DATABASE_URL!, {
  max: Number(process.env.DB_POOL_MAX ?? 15),
  onnotice: () => {},
});
const app = Fastify({ logger: false });

const COLUMNS =
  sql.unsafe(`id, email, exam_date::text, target_score, daily_study_time, knowledge_level, motivation,
  referral_source, is_admin, dark_mode, created_at, updated_at`);

type Row = Record<string, unknown> & { created_at: Date; updated_at: Date };
const toResponse = (row: Row) => ({
  ...row,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notFound = { error: { code: 'not_found', message: 'User not found' } };

const sessions = process.env.FLOOR_AUTH === 'session';

/** The SHA-256 (hex) of the request's Bearer token, as learnr stores it; undefined without one. */
function tokenDigest(request: FastifyRequest): string | undefined {
  const token = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  return token && createHash('sha256').update(token).digest('hex');
}

/** The condition a caller's own row meets: an unexpired session with this digest belongs to it. */
const ownRow = (digest: string) =>
  sql`exists (select 1 from auth_sessions s
               where s.token_digest = ${digest} and s.user_id = users.id and s.expires_at > now())`;

/** No row: 404 for a live session (another user's id, or none), else 401. Off the measured path. */
async function missing(reply: FastifyReply, digest: string) {
  const [live] = await sql`select 1 from auth_sessions where token_digest = ${digest} and expires_at > now()`;
  return live
    ? reply.status(404).send(notFound)
    : reply.status(401).send({ error: { code: 'unauthorized', message: 'the credential is not valid' } });
}

const unauthorized = { error: { code: 'unauthorized', message: 'a Bearer credential is required' } };

app.get<{ Params: { id: string } }>('/api/v1/users/:id', async (request, reply) => {
  const { id } = request.params;
  if (!UUID.test(id)) return reply.status(400).send({ error: { code: 'validation' } });
  if (!sessions) {
    const [row] = await sql<Row[]>`select ${COLUMNS} from users where id = ${id}`;
    return row ? toResponse(row) : reply.status(404).send(notFound);
  }
  const digest = tokenDigest(request);
  if (!digest) return reply.status(401).send(unauthorized);
  const [row] = await sql<Row[]>`select ${COLUMNS} from users where id = ${id} and ${ownRow(digest)}`;
  return row ? toResponse(row) : missing(reply, digest);
});

app.patch<{ Params: { id: string }; Body: { target_score?: number; dark_mode?: string } }>(
  '/api/v1/users/:id',
  async (request, reply) => {
    const { id } = request.params;
    const { target_score, dark_mode } = request.body;
    const digest = sessions ? tokenDigest(request) : undefined;
    if (sessions && !digest) return reply.status(401).send(unauthorized);
    const [row] = await sql<Row[]>`
      update users set target_score = coalesce(${target_score ?? null}::int, target_score),
                       dark_mode = coalesce(${dark_mode ?? null}, dark_mode)
       where id = ${id} ${digest ? sql`and ${ownRow(digest)}` : sql``} returning ${COLUMNS}`;
    if (row) return toResponse(row);
    return digest ? missing(reply, digest) : reply.status(404).send(notFound);
  },
);

app.get<{ Querystring: { limit?: string; offset?: string } }>('/api/v1/users', async (request) => {
  const limit = Math.min(100, Number(request.query.limit ?? 20));
  const offset = Number(request.query.offset ?? 0);
  const [rows, [total]] = await Promise.all([
    sql<
      Row[]
    >`select ${COLUMNS} from users order by created_at desc, id desc limit ${limit} offset ${offset}`,
    sql<{ count: number }[]>`select count(*)::int as count from users`,
  ]);
  return { data: rows.map(toResponse), count: total!.count };
});

app.get('/api/v1/health', async () => {
  const started = performance.now();
  await sql`select 1`;
  return {
    status: 'ok',
    database: 'connected',
    engine: 'postgres',
    latencyMs: Math.round((performance.now() - started) * 100) / 100,
    timestamp: new Date().toISOString(),
  };
});

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
process.once('SIGTERM', () => app.close().then(() => sql.end({ timeout: 1 })));
