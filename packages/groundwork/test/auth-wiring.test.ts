/**
 * Auth as every app gets it from the foundation: operator keys from ADMIN_API_KEYS on the app's routes,
 * docs and /health/* public, the Bearer scheme in the OpenAPI document, open serving only outside production
 * with nothing configured, and the start refused where that would expose the app.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineApp } from '../src/app.ts';
import { type Settings, SettingsError } from '../src/config.ts';
import { startApp } from '../src/runtime.ts';
import { setupTestApp, testSettings } from '../src/testing/index.ts';
import { cli } from './support/harness.ts';
import notes from './support/notes/src/app.ts';

const KEY = 'op-key-0123456789-0123456789-0123456789';

describe('an app with ADMIN_API_KEYS', () => {
  const t = setupTestApp(notes, { env: { ADMIN_API_KEYS: `${'x'.repeat(32)},${KEY}` } });

  it('answers 401 without a credential and serves an operator key', async () => {
    const refused = await t.server.inject({ method: 'POST', url: '/authors', payload: { email: 'a@b.io' } });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect(refused.json()).toMatchObject({ error: { code: 'unauthorized' }, requestId: expect.any(String) });
    const served = await t.server.inject({
      method: 'POST',
      url: '/authors',
      payload: { email: 'a@b.io' },
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(served.statusCode).toBe(201);
  });

  it('keeps health and docs public, and declares the Bearer scheme on the app routes', async () => {
    expect((await t.server.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    expect((await t.server.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    const docs = await t.server.inject({ method: 'GET', url: '/docs/json' });
    expect(docs.statusCode).toBe(200);
    const document = docs.json();
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.paths['/authors'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/health/live'].get.security).toEqual([]);
  });
});

describe('with nothing configured', () => {
  const t = setupTestApp(notes);

  it('serves openly outside production', async () => {
    const served = await t.server.inject({ method: 'POST', url: '/authors', payload: { email: 'o@b.io' } });
    expect(served.statusCode).toBe(201);
  });

  it('serves only a loopback Host, so a page rebinding its DNS name to this machine is refused', async () => {
    const post = (host: string) =>
      t.server.inject({
        method: 'POST',
        url: '/authors',
        payload: { email: `${randomBytes(4).toString('hex')}@b.io` },
        headers: { host },
      });
    for (const host of ['localhost:3000', '127.0.0.1:3000', '127.0.0.2', '[::1]:3000', 'LOCALHOST']) {
      expect((await post(host)).statusCode, host).toBe(201);
    }
    for (const host of ['evil.example', 'evil.example:3000', 'localhost.evil.example', '127.0.0.1.nip.io']) {
      const refused = await post(host);
      expect(refused.statusCode, host).toBe(403);
      expect(refused.json().error.message).toBe(
        'without credentials configured, only a loopback Host is served',
      );
    }
  });
});

describe('starting', () => {
  const start = (settings: Settings, app = notes) => startApp(app, { settings, migrate: false });
  const jwtApp = defineApp({ ...notes, auth: { kind: 'jwt' } });

  it('refuses production without credentials, naming the variables', async () => {
    await expect(start(testSettings(notes, { NODE_ENV: 'production' }))).rejects.toThrow(
      /ADMIN_API_KEYS: a production app needs ADMIN_API_KEYS/,
    );
    await expect(start(testSettings(jwtApp, { NODE_ENV: 'production' }), jwtApp)).rejects.toThrow(
      /AUTH_ISSUER, AUTH_AUDIENCE: a production app needs its token issuer/,
    );
  });

  it('refuses a non-loopback HOST when nothing is configured', async () => {
    await expect(start(testSettings(notes, { HOST: '0.0.0.0' }))).rejects.toThrow(SettingsError);
    await expect(start(testSettings(notes, { HOST: '0.0.0.0' }))).rejects.toThrow(/HOST: is 0.0.0.0/);
  });

  it('refuses low-entropy operator keys in production, saying how to make one, and allows them in development', () => {
    const production = (keys: string) =>
      testSettings(notes, { NODE_ENV: 'production', ADMIN_API_KEYS: keys });
    expect(() => production('a'.repeat(32))).toThrow(
      /ADMIN_API_KEYS: entry 1 has about 0 bits of estimated entropy; production needs at least 128: generate each key with openssl rand -base64 32/,
    );
    expect(() => production(`${KEY},${'ab'.repeat(24)}`)).toThrow(
      /ADMIN_API_KEYS: entry 2 has about 48 bits/,
    );
    expect(() => production(randomBytes(32).toString('base64'))).not.toThrow();
    expect(() => production(randomBytes(32).toString('hex'))).not.toThrow();
    expect(() => testSettings(notes, { ADMIN_API_KEYS: 'a'.repeat(32) })).not.toThrow();
  });

  it('exits non-zero naming ADMIN_API_KEYS when a production server starts with a low-entropy key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-weak-key-'));
    try {
      const result = await cli(['serve'], {
        cwd: join(import.meta.dirname, 'support', 'notes'),
        env: { DATA_DIR: dataDir, NODE_ENV: 'production', ADMIN_API_KEYS: 'a'.repeat(32), PORT: '0' },
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/ADMIN_API_KEYS: entry 1 has about 0 bits of estimated entropy/);
      expect(result.stderr).not.toContain('a'.repeat(32));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('validates ADMIN_API_KEYS and the issuer with its audience whatever the environment', () => {
    expect(() => testSettings(notes, { ADMIN_API_KEYS: 'short' })).toThrow(/ADMIN_API_KEYS: entry 1 is 5/);
    expect(() => testSettings(notes, { AUTH_ISSUER: 'https://issuer.example' })).toThrow(
      /AUTH_AUDIENCE: AUTH_ISSUER and AUTH_AUDIENCE go together/,
    );
  });
});
