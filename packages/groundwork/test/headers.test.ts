import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import notes from './support/notes/src/app.ts';
import { type Served, serveOnTestDatabase } from './support/serve.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let served: Served;
beforeAll(async () => {
  served = await serveOnTestDatabase(notes);
});
afterAll(() => served?.close());

describe('security headers', () => {
  it('sends the REST set on JSON answers and errors alike: nothing may load or frame them', async () => {
    for (const url of ['/health/live', '/no-such-route']) {
      const response = await served.server.inject({ url });
      expect(response.headers).toMatchObject({
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cross-origin-resource-policy': 'same-site',
        'strict-transport-security': expect.stringContaining('max-age='),
      });
      // Document-only headers stay off JSON.
      expect(response.headers['cross-origin-opener-policy']).toBeUndefined();
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('sends the document set on HTML pages, with a policy that lets the docs UI run from this origin only', async () => {
    const page = await served.server.inject({ url: '/docs' });
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
    });
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
  });
});

describe('request ids', () => {
  it('are UUIDs, returned in the x-request-id header and in error bodies', async () => {
    const first = await served.server.inject({ url: '/no-such-route' });
    const second = await served.server.inject({ url: '/no-such-route' });
    expect(first.headers['x-request-id']).toMatch(UUID);
    expect(first.json().requestId).toBe(first.headers['x-request-id']);
    expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
  });

  it('keep an incoming x-request-id of at most 128 characters of [A-Za-z0-9._-]', async () => {
    for (const id of ['trace-1.2_3', 'A'.repeat(128)]) {
      const response = await served.server.inject({ url: '/health/live', headers: { 'x-request-id': id } });
      expect(response.headers['x-request-id']).toBe(id);
    }
  });

  it('replace any other incoming x-request-id with a fresh UUID', async () => {
    for (const id of ['A'.repeat(129), 'has space', '<script>', 'line\\nbreak', 'ünï', '']) {
      const response = await served.server.inject({ url: '/no-such-route', headers: { 'x-request-id': id } });
      expect(response.headers['x-request-id'], id).toMatch(UUID);
      expect(response.json().requestId).toBe(response.headers['x-request-id']);
    }
  });
});
