import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../database/callers.ts';
import { errorBody, HttpError, notFound } from '../http/errors.ts';
import { type Owner, ownerCheck, ownerValue } from './access.ts';
import type { SessionGuard, TokenGuard } from './caller-guards.ts';
import { type JwtVerifier, TokenError } from './jwt.ts';
import type { OperatorKeys } from './operator-keys.ts';
import { type CounterStore, memoryCounters } from './rate-limits.ts';
import { sessionTokenDigest } from './session-tokens.ts';
import { claimValueOf } from './token-users.ts';

/** Who a request acts for. */
export type Identity =
  | { kind: 'admin' }
  /** `userId`: the app's user row the token names (absent until that user registers). */
  | { kind: 'user'; via: 'jwt'; subject: string; claims: Record<string, unknown>; userId: string | undefined }
  | { kind: 'user'; via: 'session'; userId: string }
  /**
   * On an `inQuery` route: a credential checked as far as it can be without the database (a token's
   * signature, a session token's shape); the route's guarded statement (`request.caller`) confirms it, or
   * the foundation does before the response leaves.
   */
  | { kind: 'pending'; via: 'session'; digest: string }
  | { kind: 'pending'; via: 'jwt'; subject: string; claims: Record<string, unknown>; claim: string }
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
    /**
     * On an `inQuery` route with a user's credential: the check its hot query carries (pass it as the query's
     * `caller`). Undefined for operators, and on every other route, whose caller was checked before.
     */
    caller: Caller | undefined;
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
  /** A `jwt` app's guard for `inQuery` routes (their user is read with their row); none: checked before. */
  tokenGuard?: TokenGuard;
  /**
   * Password sessions: the user id of a live (unexpired, unrevoked) session with this token digest; with
   * `inQuery`, the guard `inQuery` routes carry (none: checked before).
   */
  sessions?: { userIdOf(digest: string): Promise<string | undefined>; inQuery?: SessionGuard };
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
  app.decorateRequest<Caller | undefined>('caller', undefined);
  app.decorate('counterStore', options.counters ?? memoryCounters());
  app.decorate('servesOpenly', options.open);
  app.addHook('onRoute', (route) => {
    const { auth, owner, entity } = route.config ?? {};
    const where = `${[route.method].flat().join(',')} ${route.url}`;
    if ((auth === 'own') !== (owner !== undefined)) {
      throw new Error(`${where}: a route declares \`owner\` exactly when its auth is 'own'`);
    }
    if (owner === undefined) return;
    if (!owner.inQuery) {
      route.preHandler = [ownerCheck(owner, entity), ...[route.preHandler ?? []].flat()];
      return;
    }
    if (!('param' in owner) || owner.lookup || owner.claim) {
      throw new Error(`${where}: \`inQuery\` is for an owner path parameter, without lookup or claim`);
    }
    const check = ownerCheck(owner, entity);
    // Callback style: a pending caller is set up without a promise.
    const asCaller = (request: FastifyRequest, _reply: FastifyReply, done: HookDone) => {
      if (request.identity.kind !== 'pending') return void check(request).then(() => done(), done);
      try {
        callerOf(request, owner.param, options);
      } catch (error) {
        return done(error as Error);
      }
      done();
    };
    route.preHandler = [asCaller, ...[route.preHandler ?? []].flat()];
    route.onSend = [confirmBeforeSending(owner.param, entity, options), ...[route.onSend ?? []].flat()];
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
    const pending =
      credential === undefined ? undefined : pendingSession(request, access, credential, options);
    if (pending !== undefined) {
      request.identity = pending;
      return done();
    }
    authenticate(request, reply, access, credential, options).then(() => done(), done);
  });
}

type HookDone = (error?: Error) => void;

/** Whether the request's route carries its caller's check in its own statement (`own` with `inQuery`). */
const isInQuery = (request: FastifyRequest, access: Access) =>
  access === 'own' && request.routeOptions.config.owner?.inQuery === true;

/**
 * A session token on an `inQuery` route needs nothing from the database before the route's statement, so it
 * is taken without a promise; undefined for any other credential or route.
 */
function pendingSession(
  request: FastifyRequest,
  access: Access,
  credential: string,
  options: AuthOptions,
): Identity | undefined {
  if (!isInQuery(request, access)) return undefined;
  if (!options.sessions?.inQuery || (options.jwt && JWT_SHAPE.test(credential))) return undefined;
  return { kind: 'pending', via: 'session', digest: sessionTokenDigest(credential) };
}

async function authenticate(
  request: FastifyRequest,
  reply: FastifyReply,
  access: Access,
  credential: string | undefined,
  options: AuthOptions,
): Promise<void> {
  if (credential !== undefined) {
    request.identity = await identify(credential, options, reply, isInQuery(request, access));
  }
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

/**
 * A user's credential (operator keys were checked before); `inQuery`: what needs the database is left
 * to the route's statement (a pending identity).
 */
async function identify(
  credential: string,
  options: AuthOptions,
  reply: FastifyReply,
  inQuery: boolean,
): Promise<Identity> {
  if (options.jwt && JWT_SHAPE.test(credential)) {
    try {
      const claims = await options.jwt.verify(credential);
      const claim =
        inQuery && options.tokenGuard ? claimValueOf(claims, options.tokenGuard.claim) : undefined;
      if (claim !== undefined) return { kind: 'pending', via: 'jwt', subject: claims.sub, claims, claim };
      const userId = await options.userIdOfClaims?.(claims);
      return { kind: 'user', via: 'jwt', subject: claims.sub, claims, userId };
    } catch (error) {
      if (error instanceof TokenError) throw unauthorized(reply, error.message, true);
      throw error;
    }
  }
  if (options.sessions) {
    const digest = sessionTokenDigest(credential);
    const userId = await options.sessions.userIdOf(digest);
    if (userId) return { kind: 'user', via: 'session', userId };
  }
  throw unauthorized(reply, 'the credential is not valid', true);
}

type Pending = Extract<Identity, { kind: 'pending' }>;

/** The pending identity confirmed: the user `userId` (the route's owner, as the guard pinned it). */
function confirmed(pending: Pending, userId: string): Identity {
  return pending.via === 'session'
    ? { kind: 'user', via: 'session', userId }
    : { kind: 'user', via: 'jwt', subject: pending.subject, claims: pending.claims, userId };
}

/** `request.caller` of an `inQuery` route with a pending identity, once its parameters are validated. */
function callerOf(request: FastifyRequest, param: string, options: AuthOptions): void {
  const pending = request.identity as Pending;
  const owner = ownerValue(request, { param });
  if (owner === undefined) throw notFound('User');
  const confirm = () => {
    if (request.identity.kind === 'pending') request.identity = confirmed(pending, String(owner));
  };
  if (pending.via === 'jwt') {
    const values = { groundwork_owner: owner, groundwork_claim: pending.claim };
    request.caller = { guard: options.tokenGuard!, values, confirm };
    return;
  }
  const session = options.sessions!.inQuery!;
  request.caller = {
    guard: session.guard,
    values: { groundwork_owner: owner, ...session.values(pending.digest) },
    confirm: () => {
      confirm();
      return session.seen(pending.digest);
    },
  };
}

const READS = new Set(['GET', 'HEAD']);

/**
 * The fail-safe of an `inQuery` route: no response leaves for an unconfirmed identity. One read does what the
 * guarded statement did not (it found no row, or the handler ran none): a dead credential's answer becomes
 * 401, another user's 404. A write route that answered a success unconfirmed did not carry the check in its
 * statement, which its declaration promised: that is a 500 (and `describeOwnership` fails on it).
 */
function confirmBeforeSending(param: string, entity: string | undefined, options: AuthOptions) {
  const confirmPending = async (
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    pending: Pending,
  ) => {
    // Consumed first: should the read fail, its error response passes here once more, unconfirmed.
    request.identity = ANONYMOUS;
    const userId =
      pending.via === 'session'
        ? await options.sessions!.userIdOf(pending.digest)
        : await options.userIdOfClaims?.(pending.claims);
    if (userId === undefined && pending.via === 'session') {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      return replaced(request, reply, 401, 'unauthorized', 'the credential is not valid');
    }
    if (userId !== undefined) request.identity = confirmed(pending, userId);
    // No caller: the request was refused before the ownership check (invalid input), as it would be anyway.
    if (request.caller === undefined) return payload;
    const owner = ownerValue(request, { param });
    if (userId === undefined || String(owner) !== userId) {
      return replaced(request, reply, 404, 'not_found', `${entity ?? 'User'} not found`);
    }
    if (!READS.has(request.method) && reply.statusCode < 300) {
      request.log.error(
        `${request.method} ${request.routeOptions.url}: declared inQuery, but answered without a guarded statement`,
      );
      return replaced(request, reply, 500, 'internal_error', 'internal server error');
    }
    return payload;
  };
  // Callback style: a confirmed request (the usual one) passes without a promise.
  return (
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: (error: Error | null, payload?: unknown) => void,
  ) => {
    const pending = request.identity;
    if (pending.kind !== 'pending') return done(null, payload);
    confirmPending(request, reply, payload, pending).then((sent) => done(null, sent), done);
  };
}

/** The response's status and body replaced by an error of the one error shape. */
function replaced(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
) {
  reply.status(status).type('application/json; charset=utf-8');
  return JSON.stringify(errorBody(request, code, message));
}

/** 401 with the RFC 6750 challenge; `invalid_token` when a credential was given and refused. */
function unauthorized(reply: FastifyReply, message: string, invalidToken: boolean): HttpError {
  reply.header('www-authenticate', invalidToken ? 'Bearer error="invalid_token"' : 'Bearer');
  return new HttpError(401, 'unauthorized', message);
}
