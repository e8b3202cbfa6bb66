import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export type SigningAlgorithm = 'RS256' | 'ES256';

/**
 * An OpenID Connect issuer on loopback, as a `jwt` app meets a real one (Cognito and Google sign RS256,
 * others ES256): a discovery document at `/.well-known/openid-configuration` naming its JWKS, which the app
 * fetches over HTTP, and ID tokens signed with the key it publishes. Groundwork's development issuer signs
 * EdDSA and is refused in production, where the bench runs the apps.
 */
export async function startIssuer(algorithm: SigningAlgorithm, audience: string) {
  const { privateKey, publicKey } = await generateKeyPair(algorithm);
  const kid = `bench-${algorithm.toLowerCase()}`;
  const jwks = JSON.stringify({
    keys: [{ ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' }],
  });
  const server = createServer((request, response) => {
    const body =
      request.url === '/.well-known/openid-configuration'
        ? JSON.stringify({
            issuer,
            jwks_uri: `${issuer}/jwks`,
            id_token_signing_alg_values_supported: [algorithm],
          })
        : request.url === '/jwks'
          ? jwks
          : undefined;
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    audience,
    jwksUrl: `${issuer}/jwks`,
    /** An ID token for `subject`, valid for `ttlSeconds`, with the registered claims and Cognito's `token_use`. */
    sign(subject: string, ttlSeconds: number): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: issuer,
        aud: audience,
        sub: subject,
        iat: now,
        exp: now + ttlSeconds,
        token_use: 'id',
      };
      return new SignJWT(claims).setProtectedHeader({ alg: algorithm, kid, typ: 'JWT' }).sign(privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
