/**
 * The floor of the JWT scenario of `npm run bench:http`: rnd-cards' GET user served by plain Fastify and
 * postgres.js, no validation library, no logging. The caller's ID token is verified by `jose` against the
 * issuer's published key set (fetched once, as jose caches it), then one query reads the row when its
 * `cognito_sub` is the token's subject: the least a token can cost. Never shipped.
 *
 *   DATABASE_URL=postgres://... AUTH_ISSUER=... AUTH_AUDIENCE=rnd-cards AUTH_JWKS_URL=... PORT=3001 \
 *     node bench/http/floor-jwt.ts
 */
import Fastify from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import postgres from 'postgres';

const sql = postgres(process.env.DATABASE_URL!, {
  max: Number(process.env.DB_POOL_MAX ?? 30),
  onnotice: () => {},
});
const keys = createRemoteJWKSet(new URL(process.env.AUTH_JWKS_URL!));
const verifyOptions = {
  issuer: process.env.AUTH_ISSUER!,
  audience: process.env.AUTH_AUDIENCE!,
  algorithms: ['RS256', 'ES256'],
};
const app = Fastify({ logger: false });

type Row = Record<string, unknown> & { lastLoginAt: Date | null; createdAt: Date; updatedAt: Date };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const unauthorized = { error: { code: 'unauthorized', message: 'the credential is not valid' } };

app.get<{ Params: { id: string } }>('/api/v1/users/:id', async (request, reply) => {
  const token = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!token) return reply.status(401).send(unauthorized);
  let subject: string | undefined;
  try {
    subject = (await jwtVerify(token, keys, verifyOptions)).payload.sub;
  } catch {
    return reply.status(401).send(unauthorized);
  }
  if (!subject) return reply.status(401).send(unauthorized);
  const { id } = request.params;
  if (!UUID.test(id)) return reply.status(400).send({ error: { code: 'validation' } });
  const [row] = await sql<Row[]>`
    select id, email, name, company, preferences, last_login_at as "lastLoginAt", created_at as "createdAt",
           updated_at as "updatedAt"
      from users where id = ${id} and cognito_sub = ${subject}`;
  if (!row) return reply.status(404).send({ error: { code: 'not_found', message: 'User not found' } });
  return {
    ...row,
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
});

app.get('/health', async () => {
  await sql`select 1`;
  return { status: 'healthy' };
});

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
process.once('SIGTERM', () => app.close().then(() => sql.end({ timeout: 1 })));
