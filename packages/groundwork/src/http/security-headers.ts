import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import helmet from 'helmet';

/**
 * Serves JSON and the swagger UI only: scripts and styles from this origin (the UI sets inline styles),
 * no frames, no plugins, no forms elsewhere. No upgrade-insecure-requests: development serves plain http.
 */
const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
};

/**
 * Helmet's document headers for this policy, worked out once: with no nonces they are the same on every
 * response, and asking helmet per request re-parses the whole policy each time.
 */
function documentSecurityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = value;
    },
    removeHeader: () => {},
  };
  helmet({
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    frameguard: { action: 'deny' },
    // A cross-origin API client (another site's frontend) must be able to read responses CORS allows.
    crossOriginResourcePolicy: { policy: 'same-site' },
  })({} as IncomingMessage, response as unknown as ServerResponse, () => {});
  return headers;
}

/** HTML pages (the docs UI, the index): helmet's full set, with the policy the swagger UI needs. */
export const DOCUMENT_SECURITY_HEADERS = documentSecurityHeaders();

/**
 * Every other response (JSON): the OWASP REST set. Nothing in a JSON body may load anything or be framed, so
 * the policy is `default-src 'none'`; helmet's other headers govern documents only. Half the bytes of the
 * document set: on loopback each response's bytes cost the server CPU (docs/performance.md).
 */
export const API_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': DOCUMENT_SECURITY_HEADERS['cross-origin-resource-policy']!,
  'referrer-policy': 'no-referrer',
  'strict-transport-security': DOCUMENT_SECURITY_HEADERS['strict-transport-security']!,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

export const isHtml = (reply: FastifyReply) =>
  String(reply.getHeader('content-type') ?? '').startsWith('text/html');
