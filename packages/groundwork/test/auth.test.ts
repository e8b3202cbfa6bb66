import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJwtVerifier, TokenError, VERIFIED_TOKEN_TTL_MS, verifierWith } from '../src/auth/jwt.ts';
import { parseOperatorKeys } from '../src/auth/operator-keys.ts';
import { type AuthOptions, registerAuth } from '../src/auth/plugin.ts';
import { createSessionToken } from '../src/auth/session-tokens.ts';
import { errorHandler } from '../src/http/errors.ts';

const AUDIENCE = 'groundwork-tests';
const ADMIN_KEY = 'k'.repeat(40);

/** An OpenID issuer on loopback: discovery document and JWKS, whose keys a test can rotate. */
let issuerServer: Server;
let issuer: string;
let published: JWK[] = [];
let jwksFetches = 0;

type Signer = { kid: string; privateKey: CryptoKey; publicJwk: JWK };
async function newSigner(kid: string, alg: 'RS256' | 'ES256' | 'EdDSA' = 'RS256'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

let current: Signer;

function sign(claims: JWTPayload, signer = current, alg = signer.publicJwk.alg!): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg, kid: signer.kid })
    .setIssuer(claims.iss ?? issuer)
    .setAudience(claims.aud ?? AUDIENCE)
    .setSubject(claims.sub ?? 'user_123')
    .setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 300)
    .sign(signer.privateKey);
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  current = await newSigner('key-1');
  published = [current.publicJwk];
  issuerServer = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    if (request.url === '/.well-known/openid-configuration') {
      response.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (request.url === '/jwks') {
      jwksFetches++;
      response.end(JSON.stringify({ keys: published }));
    } else {
      response.statusCode = 404;
      response.end('{}');
    }
  });
  await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => issuerServer.close(resolve)));

/** A server with one route per access level that echoes the identity it saw. */
async function serverWith(options: Partial<AuthOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify();
  app.setErrorHandler(errorHandler);
  registerAuth(app, {
    operatorKeys: parseOperatorKeys(ADMIN_KEY),
    jwt: createJwtVerifier({ issuer, audience: AUDIENCE }, { refetchCooldownMs: 200 }),
    open: false,
    ...options,
  });
  app.get('/health', { config: { auth: 'public' } }, async () => ({ ok: true }));
  app.get('/me', async (request) => request.identity);
  app.get('/admin', { config: { auth: 'admin' } }, async (request) => request.identity);
  await app.ready();
  return app;
}

const get = (app: FastifyInstance, url: string, credential?: string) =>
  app.inject({ method: 'GET', url, headers: credential ? { authorization: `Bearer ${credential}` } : {} });

describe('jwt credentials, verified against the issuer JWKS', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await serverWith();
  });
  afterAll(() => app.close());

  it('accepts a valid token, found through the discovery document, and names its subject', async () => {
    const response = await get(app, '/me', await sign({ sub: 'user_abc' }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ kind: 'user', via: 'jwt', subject: 'user_abc' });
  });

  it('accepts ES256 and EdDSA keys too', async () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const signer = await newSigner(`key-${alg}`, alg);
      published = [...published, signer.publicJwk];
      await new Promise((resolve) => setTimeout(resolve, 250)); // past the refetch cooldown
      expect((await get(app, '/me', await sign({}, signer))).statusCode).toBe(200);
    }
  });

  it('refuses an expired token, but tolerates 30 s of clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await get(app, '/me', await sign({ exp: now - 60 }));
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error).toMatchObject({ code: 'unauthorized', message: 'token has expired' });
    expect(expired.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect((await get(app, '/me', await sign({ exp: now - 10 }))).statusCode).toBe(200);
  });

  it('refuses a token that is not valid yet', async () => {
    const response = await get(app, '/me', await sign({ nbf: Math.floor(Date.now() / 1000) + 120 }));
    expect(response.statusCode).toBe(401);
  });

  it('refuses the wrong issuer and the wrong audience', async () => {
    expect((await get(app, '/me', await sign({ iss: 'https://evil.example' }))).statusCode).toBe(401);
    expect((await get(app, '/me', await sign({ aud: 'another-service' }))).statusCode).toBe(401);
  });

  it('refuses alg "none"', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ iss: issuer, aud: AUDIENCE, sub: 'admin', exp: now + 300 })}.`;
    const response = await get(app, '/me', unsigned);
    expect(response.statusCode).toBe(401);
  });

  it('refuses an HS256 token signed with the public key (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(current.publicJwk));
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: current.kid })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setSubject('admin')
      .setExpirationTime('5m')
      .sign(secret);
    expect((await get(app, '/me', forged)).statusCode).toBe(401);
  });

  it('refuses an unknown kid after one refetch, and does not refetch again within the cooldown', async () => {
    const stranger = await newSigner('never-published');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const before = jwksFetches;
    expect((await get(app, '/me', await sign({}, stranger))).statusCode).toBe(401);
    expect((await get(app, '/me', await sign({}, stranger))).statusCode).toBe(401);
    expect(jwksFetches - before).toBe(1);
  });

  it('picks up a rotated key without a restart', async () => {
    const next = await newSigner('key-2');
    published = [next.publicJwk]; // the issuer rotated: key-1 is gone
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await get(app, '/me', await sign({ sub: 'rotated' }, next))).json()).toMatchObject({
      subject: 'rotated',
    });
    current = next;
  });
});

describe('verified tokens are remembered, within their lifetime only', () => {
  /** A verifier over the published keys that counts signature checks (each one looks the key set up once). */
  function countingVerifier(options: { now?: () => number; remember?: number } = {}) {
    const checks = { count: 0 };
    const verifier = verifierWith(
      { issuer, audience: AUDIENCE },
      async () => {
        checks.count++;
        return createLocalJWKSet({ keys: published });
      },
      options,
    );
    return { verifier, checks };
  }

  it('checks the signature of a token once, then answers from memory', async () => {
    const { verifier, checks } = countingVerifier();
    const token = await sign({ sub: 'remembered' });
    expect((await verifier.verify(token)).sub).toBe('remembered');
    expect((await verifier.verify(token)).sub).toBe('remembered');
    expect(checks.count).toBe(1);
  });

  it('checks again once the exp of the token has passed, and after the remembering time at most', async () => {
    let clock = Date.now();
    const { verifier, checks } = countingVerifier({ now: () => clock });
    const shortLived = await sign({ sub: 'short', exp: Math.floor(clock / 1000) + 60 });
    const longLived = await sign({ sub: 'long', exp: Math.floor(clock / 1000) + 3600 });
    await verifier.verify(shortLived);
    await verifier.verify(longLived);
    expect(checks.count).toBe(2);
    clock += 61_000;
    await verifier.verify(shortLived);
    await verifier.verify(longLived);
    expect(checks.count).toBe(3);
    clock += VERIFIED_TOKEN_TTL_MS;
    await verifier.verify(longLived);
    expect(checks.count).toBe(4);
  });

  it('never remembers a refusal', async () => {
    const { verifier, checks } = countingVerifier();
    const foreign = await sign({ sub: 'x', aud: 'another-service' });
    await expect(verifier.verify(foreign)).rejects.toBeInstanceOf(TokenError);
    await expect(verifier.verify(foreign)).rejects.toBeInstanceOf(TokenError);
    expect(checks.count).toBe(2);
  });

  it('remembers a bounded number of tokens, forgetting the oldest first', async () => {
    const { verifier, checks } = countingVerifier({ remember: 2 });
    const [first, second, third] = await Promise.all(['a', 'b', 'c'].map((sub) => sign({ sub })));
    for (const token of [first, second, third]) await verifier.verify(token!);
    await verifier.verify(third!);
    await verifier.verify(second!);
    expect(checks.count).toBe(3);
    await verifier.verify(first!);
    expect(checks.count).toBe(4);
  });
});

describe('operator keys and access levels', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await serverWith();
    return () => app.close();
  });

  it('lets an operator key reach admin routes and user routes', async () => {
    expect((await get(app, '/admin', ADMIN_KEY)).json()).toEqual({ kind: 'admin' });
    expect((await get(app, '/me', ADMIN_KEY)).json()).toEqual({ kind: 'admin' });
  });

  it('answers 403 to a valid user on an admin route, and 401 to a wrong key', async () => {
    expect((await get(app, '/admin', await sign({}))).statusCode).toBe(403);
    const wrong = await get(app, '/admin', 'x'.repeat(40));
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('answers 401 with a Bearer challenge when no credential is sent, and to a malformed header', async () => {
    const missing = await get(app, '/me');
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const malformed = await app.inject({
      method: 'GET',
      url: '/me',
      headers: { authorization: 'Basic abc' },
    });
    expect(malformed.statusCode).toBe(401);
  });

  it('never authenticates public routes', async () => {
    expect((await get(app, '/health')).statusCode).toBe(200);
    expect((await get(app, '/health', 'garbage')).statusCode).toBe(200);
  });

  it('serves requests without a credential as an operator only in open (development) mode', async () => {
    const open = await serverWith({ open: true });
    expect((await get(open, '/admin')).statusCode).toBe(200);
    expect((await get(open, '/me', 'not-a-valid-token')).statusCode).toBe(401);
    await open.close();
  });

  it('matches each configured key, every time, and nothing else (rotation is a restart)', () => {
    const other = 'o'.repeat(40);
    const keys = parseOperatorKeys(`${ADMIN_KEY},${other}`);
    for (let i = 0; i < 3; i++) {
      expect(keys.matches(ADMIN_KEY)).toBe(true);
      expect(keys.matches(`${ADMIN_KEY}x`)).toBe(false);
      expect(keys.matches(ADMIN_KEY.slice(1))).toBe(false);
      expect(keys.matches('x'.repeat(40))).toBe(false);
    }
    expect(keys.matches(other)).toBe(true);
    // Rotation is a new ADMIN_API_KEYS, read at start: the key left out stops working there.
    const rotated = parseOperatorKeys(other);
    expect(rotated.matches(ADMIN_KEY)).toBe(false);
    expect(rotated.matches(other)).toBe(true);
  });

  it('refuses operator keys shorter than 32 characters or unsendable, naming the entry and not the key', () => {
    expect(() => parseOperatorKeys(`${ADMIN_KEY},short-key`)).toThrow(/entry 2 is 9 characters/);
    expect(() => parseOperatorKeys(`${'é'.repeat(40)}`)).toThrow(/entry 1 has characters/);
    expect(() => parseOperatorKeys(`${ADMIN_KEY},short-key`)).not.toThrow(/short-key/);
  });
});

describe('password sessions', () => {
  it('resolves a live session token to its user, and refuses an unknown one', async () => {
    const { token, digest } = createSessionToken();
    const live = new Map([[digest, 'user-7']]);
    const app = await serverWith({ jwt: undefined, sessions: { userIdOf: async (d) => live.get(d) } });
    expect((await get(app, '/me', token)).json()).toEqual({ kind: 'user', via: 'session', userId: 'user-7' });
    live.clear(); // revoked (logout) or expired
    expect((await get(app, '/me', token)).statusCode).toBe(401);
    await app.close();
  });

  it('stores only a digest: the token itself never appears in it', () => {
    const { token, digest } = createSessionToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).not.toContain(token);
  });
});
