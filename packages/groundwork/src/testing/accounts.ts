import { expect } from 'vitest';
import type { TestApp } from './app.ts';

type Response = Awaited<ReturnType<TestApp<Record<string, unknown>>['server']['inject']>>;

export interface PasswordAccountRequests {
  /** `POST {prefix}/auth/login` from a client address of its own per call. */
  login(credentials: Record<string, string>): Promise<Response>;
  /** Logs in, which must succeed, and returns the new session's headers. */
  sessionHeaders(credentials: Record<string, string>): Promise<{ authorization: string }>;
  /**
   * Registers `limit` accounts (`payload(0..limit-1)`) from one address, each of which must be created, then one
   * more, which must get the per-IP limit's 429 with Retry-After; returns that refusal.
   */
  registerPastLimit(payload: (n: number) => Record<string, string>, limit?: number): Promise<Response>;
}

/**
 * Requests to the login and registration routes of a password app mounted under `prefix`. Logins come from an
 * address of their own per call: the per-IP login limit is not what a test of an app's accounts checks.
 */
export function passwordAccountRequests(
  t: TestApp<Record<string, unknown>>,
  prefix = '/api/v1',
): PasswordAccountRequests {
  let client = 0;
  const login = (credentials: Record<string, string>) =>
    t.server.inject({
      method: 'POST',
      url: `${prefix}/auth/login`,
      payload: credentials,
      remoteAddress: `198.51.100.${(++client % 250) + 1}`,
    });
  return {
    login,
    async sessionHeaders(credentials) {
      const response = await login(credentials);
      expect(response.statusCode, response.body).toBe(200);
      return { authorization: `Bearer ${response.json().token}` };
    },
    // registrationRateLimit's default: 20 a minute.
    async registerPastLimit(payload, limit = 20) {
      const register = (n: number) =>
        t.server.inject({
          method: 'POST',
          url: `${prefix}/users`,
          payload: payload(n),
          remoteAddress: '203.0.113.9',
        });
      for (let n = 0; n < limit; n++) expect((await register(n)).statusCode).toBe(201);
      const refused = await register(limit);
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json().error.code).toBe('rate_limited');
      return refused;
    },
  };
}
