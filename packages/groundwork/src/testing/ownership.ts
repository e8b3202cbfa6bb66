import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { sessionTokenDigest } from '../auth/session-tokens.ts';
import type { TestApp } from './app.ts';

/** A user the matrix acts as: `credential` is what `t.userHeaders` takes (a password app's user id, a token's claim). */
export interface OwnershipUser {
  credential: string;
}

export interface OwnershipFixtures<TUser extends OwnershipUser> {
  /** Creates a user, with whatever rows of theirs the requests need; called anew for each role of each route. */
  user(name: string): Promise<TUser>;
  /** For every route the app registers (`METHOD /url`, as in `t.routes`): a request aimed at `user`'s rows. */
  requests: Record<string, (user: TUser) => InjectOptions>;
  /** What a refused request must leave as it was: the user's rows, read back. */
  state?(user: TUser): Promise<unknown>;
  /** A `jwt` app: a claim no registered user has, whose token must get the 404 of `own` routes too. */
  unregistered?: string;
}

/**
 * A user of a password app: `credential` and `id` are the user id, `login` the value of the app's login field;
 * with a login session of their own (`sessionId`, its digest) to end.
 */
export interface SessionUser extends OwnershipUser {
  id: string;
  login: string;
  sessionId: string;
}

/** Opens a login session for the password app's user `id`, whose login field holds `login`. */
export async function sessionUser(
  t: TestApp<Record<string, unknown>>,
  id: string,
  login: string,
): Promise<SessionUser> {
  const { sessions } = t.app.context;
  if (!sessions) throw new Error(`${t.app.definition.name} is not a password app: it has no login sessions`);
  const { token } = await sessions.open(id);
  return { credential: id, id, login, sessionId: sessionTokenDigest(token) };
}

/**
 * The requests for the routes `passwordLoginRoutes` mounts under `prefix` (login, logout, my sessions, log out
 * everywhere, password change), for a user whose password is `password`; login names them by `loginField`.
 */
export function sessionRouteRequests(
  prefix: string,
  password: string,
  loginField: 'username' | 'email',
): Record<string, (user: SessionUser) => InjectOptions> {
  return {
    [`POST ${prefix}/auth/login`]: (user) => ({
      method: 'POST',
      url: `${prefix}/auth/login`,
      payload: { [loginField]: user.login, password },
    }),
    [`POST ${prefix}/auth/logout`]: () => ({ method: 'POST', url: `${prefix}/auth/logout` }),
    [`GET ${prefix}/auth/sessions`]: () => ({ url: `${prefix}/auth/sessions` }),
    [`DELETE ${prefix}/auth/sessions/:id`]: (user) => ({
      method: 'DELETE',
      url: `${prefix}/auth/sessions/${user.sessionId}`,
    }),
    [`POST ${prefix}/auth/logout-all`]: () => ({ method: 'POST', url: `${prefix}/auth/logout-all` }),
    [`POST ${prefix}/auth/password`]: () => ({
      method: 'POST',
      url: `${prefix}/auth/password`,
      payload: { current_password: password, new_password: `${password} changed` },
    }),
  };
}

type Response = Awaited<ReturnType<TestApp<Record<string, unknown>>['server']['inject']>>;

/** Past the access check: the route's own answer (its behaviour is its own tests' business), not a refusal. */
function expectServed(response: Response, who: string): void {
  expect([401, 403, 404], `${who}: ${response.body}`).not.toContain(response.statusCode);
  expect(response.statusCode, `${who}: ${response.body}`).toBeLessThan(500);
}

function expectRefused(response: Response, status: number, code: string, who: string): void {
  expect(response.statusCode, `${who}: ${response.body}`).toBe(status);
  expect(response.json().error.code, who).toBe(code);
}

/**
 * The access matrix of an app, built from what each route declares (`config.auth`, and `owner` for `own`):
 * without a credential every route but a public one answers 401 with `WWW-Authenticate: Bearer`; a user
 * gets 403 from an `admin` route and 404 from another user's row on an `own` route, as for a missing one;
 * (so does a token whose user has not registered, `unregistered`); the owner's ended (logged-out) session
 * gets 401; a refused request changes nothing (`state`: a route that checks its caller in its statement,
 * `inQuery`, and writes without doing so fails here, or answers its owner a 500); owners, users and operators are served, but an operator gets 403 from a `session` route. A route that declares
 * no `auth`, or has no request in `fixtures`, fails.
 */
export function describeOwnership<TSchema extends Record<string, unknown>, TUser extends OwnershipUser>(
  t: TestApp<TSchema>,
  fixtures: OwnershipFixtures<TUser>,
): void {
  const send = async (request: InjectOptions, headers: Record<string, string> = {}) =>
    t.server.inject({ ...request, headers: { ...request.headers, ...headers } });
  const unchanged = async (user: TUser, refused: () => Promise<void>) => {
    const before = await fixtures.state?.(user);
    await refused();
    expect(await fixtures.state?.(user)).toEqual(before);
  };
  /** A password app's session of `user` that has ended (logged out); a token app has none to end. */
  const endedSession = async (user: TUser) => {
    const { sessions } = t.app.context;
    if (!sessions) return undefined;
    const headers = await t.userHeaders(user.credential);
    await sessions.revoke(sessionTokenDigest(headers.authorization.slice('Bearer '.length)));
    return headers;
  };

  describe('ownership', () => {
    it('has a request for every route, and every route declares who may call it', () => {
      expect(Object.keys(fixtures.requests).sort()).toEqual([...t.routes].sort());
      const undeclared = t.routes.filter((route) => t.access.get(route) === undefined);
      expect(undeclared, 'routes without config.auth').toEqual([]);
    });

    for (const [route, request] of Object.entries(fixtures.requests)) {
      it(`${route}: refuses and serves as its declaration says`, async () => {
        const access = t.access.get(route);
        expect(access, `${route} declares no config.auth`).toBeDefined();
        const [owner, other] = [await fixtures.user('owner'), await fixtures.user('other')];
        if (access === 'public') {
          expectServed(await send(request(owner)), 'no credential');
        } else {
          await unchanged(owner, async () => {
            const response = await send(request(owner));
            expectRefused(response, 401, 'unauthorized', 'no credential');
            expect(response.headers['www-authenticate']).toBe('Bearer');
            const ended = await endedSession(owner);
            if (ended)
              expectRefused(await send(request(owner), ended), 401, 'unauthorized', 'an ended session');
            const otherHeaders = await t.userHeaders(other.credential);
            if (access === 'admin') {
              expectRefused(await send(request(owner), otherHeaders), 403, 'forbidden', 'a user');
            }
            if (access === 'own') {
              expectRefused(await send(request(owner), otherHeaders), 404, 'not_found', 'another user');
              if (fixtures.unregistered !== undefined) {
                const stranger = await t.userHeaders(fixtures.unregistered);
                expectRefused(await send(request(owner), stranger), 404, 'not_found', 'an unregistered user');
              }
            }
          });
        }
        if (access === 'session') {
          expectRefused(await send(request(other), t.adminHeaders), 403, 'forbidden', 'an operator');
        } else {
          expectServed(await send(request(other), t.adminHeaders), 'an operator');
        }
        if (access === 'own' || access === 'user' || access === 'session') {
          expectServed(await send(request(owner), await t.userHeaders(owner.credential)), 'the owner');
        }
      });
    }
  });
}
