import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http/errors.ts';
import { type Owner, ownerCheck } from './access.ts';
import { type JwtVerifier, TokenError } from './jwt.ts';
import type { OperatorKeys } from './operator-keys.ts';
import { type CounterStore, memoryCounters } from './rate-limits.ts';
import { sessionTokenDigest } from './session-tokens.ts';

/** Who a request acts for. */
export type Identity =
  | { kind: 'admin' }
  /** `userId`: the app's user row the token names (absent until that user registers). */
  | { kind: 'user'; via: 'jwt'; subject: string; claims: Record<string, unknown>; userId: string | undefined }
  | { kind: 'user'; via: 'session'; userId: string }
  | { kind: 'anonymous' };

/**
 * `public`: no credential read (health, docs, login); `user`: any valid credential; `own`: a user, on rows
 * of their own (the route's `owner` says whose the row is; another user's is a 404); `session`: a user's own
 * login session (my sessions, password change), which operator keys and tokens do not have (403); `admin`:
 * operator keys. Operators reach every level but `session`.
 */
export type Access = 'public' | 'user' | 'own' | 'session' | 'admin';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
  }
  interface FastifyInstance {
    /** Development without credentials: every request acts as an operator (set by registerAuth). */
    servesOpenly?: boolean;
  }
  interface FastifyContextConfig {
    /** Who may call the route; `user` when unset (`describeOwnership` fails on a route that leaves it unset). */
    auth?: Access;
    /** With `auth: 'own'`: where the owning user's id comes from. */
    owner?: Owner;
    /** With `auth: 'own'`: the entity a refused request's 404 names (`User` by default). */
    entity?: string;
  }
}

export interface AuthOptions {
  operatorKeys: OperatorKeys;
  jwt?: JwtVerifier;
  /** A `jwt` app's user row for a verified token's claims. */
  userIdOfClaims?: (claims: Record<string, unknown>) => Promise<string | undefined>;
  /** Password sessions: the user id of a live (unexpired, unrevoked) session with this token digest. */
  sessions?: { userIdOf(digest: string): Promise<string | undefined> };
  /** Development with no credentials configured: requests without one act as an operator. */
  open: boolean;
  /** Rate-limit counters of the app's routes (login, registration); this process's memory when unset. */
  counters?: CounterStore;
}

const ANONYMOUS: Identity = { kind: 'anonymous' };
const OPERATOR: Identity = { kind: 'admin' };
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;
/** localhost, 127.0.0.0/8 or [::1], with an optional port. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;

/**
 * Authenticates every non-public route of `app` (its encapsulated context) and enforces its `auth` level;
 * an `own` route's ownership check runs before its own preHandlers, once the request is validated.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  app.decorateRequest<Identity | null>('identity', null);
  app.decorate('counterStore', options.counters ?? memoryCounters());
  app.decorate('servesOpenly', options.open);
  app.addHook('onRoute', (route) => {
    const { auth, owner, entity } = route.config ?? {};
    const where = `${[route.method].flat().join(',')} ${route.url}`;
    if ((auth === 'own') !== (owner !== undefined)) {
      throw new Error(`${where}: a route declares \`owner\` exactly when its auth is 'own'`);
    }
    if (owner === undefined) return;
    route.preHandler = [ownerCheck(owner, entity), ...[route.preHandler ?? []].flat()];
  });
  // Callback style, so a request that needs no database read (public, an operator key) costs no promise.
  app.addHook('onRequest', (request, reply, done) => {
    request.identity = ANONYMOUS;
    // Open mode trusts whoever reaches it, so only this machine may: a page on another site that rebinds
    // its DNS name to 127.0.0.1 still sends its own name as Host. A request with no Host at all (a load
    // balancer's HTTP/1.0 health check) comes from no browser, so from no such page.
    if (options.open && request.headers.host !== undefined && !LOOPBACK_HOST.test(request.host)) {
      return done(
        new HttpError(403, 'forbidden', 'without credentials configured, only a loopback Host is served'),
      );
    }
    const access = request.routeOptions.config.auth ?? 'user';
    if (access === 'public') {
      // Only an operator key is recognised here (so operators are not counted as strangers); nothing is refused.
      const credential = publicCredential(request);
      if (credential !== undefined && options.operatorKeys.matches(credential)) request.identity = OPERATOR;
      return done();
    }
    const credential = bearerCredential(request, reply);
    // An operator reaches every access level.
    if (credential !== undefined && options.operatorKeys.matches(credential)) {
      request.identity = OPERATOR;
      return done(access === 'session' ? needsSession() : undefined);
    }
    authenticate(request, reply, access, credential, options).then(() => done(), done);
  });
}

async function authenticate(
  request: FastifyRequest,
  reply: FastifyReply,
  access: Access,
  credential: string | undefined,
  options: AuthOptions,
): Promise<void> {
  if (credential !== undefined) request.identity = await identify(credential, options, reply);
  const identity = request.identity;
  if (identity.kind === 'anonymous') {
    if (options.open && access !== 'session') {
      request.identity = OPERATOR;
      return;
    }
    throw unauthorized(reply, 'a Bearer credential is required', false);
  }
  if (access === 'admin' && identity.kind !== 'admin') {
    throw new HttpError(403, 'forbidden', 'this route needs an operator key');
  }
  if (access === 'session' && !(identity.kind === 'user' && identity.via === 'session')) throw needsSession();
}

const needsSession = () => new HttpError(403, 'forbidden', 'this route needs a login session token');

function bearerCredential(request: FastifyRequest, reply: FastifyReply): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!match) throw unauthorized(reply, 'the Authorization header must be "Bearer <credential>"', true);
  return match[1]!;
}

/** The Bearer credential of a public route's request, if any; a malformed header is ignored there. */
function publicCredential(request: FastifyRequest): string | undefined {
  return /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** A user's credential (operator keys were checked before). */
async function identify(credential: string, options: AuthOptions, reply: FastifyReply): Promise<Identity> {
  if (options.jwt && JWT_SHAPE.test(credential)) {
    try {
      const claims = await options.jwt.verify(credential);
      const userId = await options.userIdOfClaims?.(claims);
      return { kind: 'user', via: 'jwt', subject: claims.sub, claims, userId };
    } catch (error) {
      if (error instanceof TokenError) throw unauthorized(reply, error.message, true);
      throw error;
    }
  }
  if (options.sessions) {
    const userId = await options.sessions.userIdOf(sessionTokenDigest(credential));
    if (userId) return { kind: 'user', via: 'session', userId };
  }
  throw unauthorized(reply, 'the credential is not valid', true);
}

/** 401 with the RFC 6750 challenge; `invalid_token` when a credential was given and refused. */
function unauthorized(reply: FastifyReply, message: string, invalidToken: boolean): HttpError {
  reply.header('www-authenticate', invalidToken ? 'Bearer error="invalid_token"' : 'Bearer');
  return new HttpError(401, 'unauthorized', message);
}
