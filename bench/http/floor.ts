/**
 * The floor for `npm run bench:http`: learnr's user contract served by plain Fastify and postgres.js with
 * hand-written SQL, named prepared statements and no logging. Never shipped; it shows what the driver and the
 * HTTP server cost on their own.
 *
 *   DATABASE_URL=postgres://... PORT=3001 node bench/http/floor.ts
 */
import Fastify from 'fastify';
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

app.get<{ Params: { id: string } }>('/api/v1/users/:id', async (request, reply) => {
  if (!UUID.test(request.params.id)) return reply.status(400).send({ error: { code: 'validation' } });
  const [row] = await sql<Row[]>`select ${COLUMNS} from users where id = ${request.params.id}`;
  return row ? toResponse(row) : reply.status(404).send(notFound);
});

app.patch<{ Params: { id: string }; Body: { target_score?: number; dark_mode?: string } }>(
  '/api/v1/users/:id',
  async (request, reply) => {
    const { target_score, dark_mode } = request.body;
    const [row] = await sql<Row[]>`
      update users set target_score = coalesce(${target_score ?? null}::int, target_score),
                       dark_mode = coalesce(${dark_mode ?? null}, dark_mode)
       where id = ${request.params.id} returning ${COLUMNS}`;
    return row ? toResponse(row) : reply.status(404).send(notFound);
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
