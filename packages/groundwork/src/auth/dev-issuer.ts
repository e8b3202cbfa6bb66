import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTVerifyGetKey,
  SignJWT,
} from 'jose';
import { createPrivateDirectory } from '../private-directory.ts';
import { type JwtVerifier, verifierWith } from './jwt.ts';

/** The file, in the app's data directory, that holds the development issuer's private key. */
export const DEV_ISSUER_FILE = 'groundwork-dev-issuer.jwk';

/**
 * A stand-in for an OpenID Connect issuer, for development and tests only: `groundwork auth token` signs
 * with it and a `jwt` app without AUTH_ISSUER verifies with it, through the same checks as a real issuer.
 */
export interface DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** A token for `subject` with extra claims (Google's `email`, `email_verified`), valid for `ttlSeconds`. */
  sign(subject: string, options?: { claims?: Record<string, unknown>; ttlSeconds?: number }): Promise<string>;
  readonly keys: JWTVerifyGetKey;
  verifier(): JwtVerifier;
}

export const devIssuerName = (appName: string) => `urn:groundwork:dev:${appName}`;

/** A development issuer whose key lives only in memory (tests). */
export async function createDevIssuer(appName: string): Promise<DevIssuer> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return issuerFor(appName, { ...(await exportJWK(privateKey)), alg: 'EdDSA', kid: 'dev-1' });
}

/** The development issuer of the app whose data directory is `dataDir`, its key made (0600) on first use. */
export async function loadDevIssuer(appName: string, dataDir: string): Promise<DevIssuer> {
  const existing = await readDevIssuer(appName, dataDir);
  if (existing) return existing;
  createPrivateDirectory(dataDir);
  const file = join(dataDir, DEV_ISSUER_FILE);
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), alg: 'EdDSA', kid: `dev-${Date.now()}` };
  writeFileSync(file, `${JSON.stringify(jwk)}\n`, { mode: 0o600, flag: 'wx' });
  return issuerFor(appName, jwk);
}

async function readDevIssuer(appName: string, dataDir: string): Promise<DevIssuer | undefined> {
  const file = join(dataDir, DEV_ISSUER_FILE);
  if (!existsSync(file)) return undefined;
  return issuerFor(appName, JSON.parse(readFileSync(file, 'utf8')) as JWK);
}

/**
 * What a `jwt` app without AUTH_ISSUER verifies with outside production. The key file is read when the first
 * token arrives, so starting the app writes nothing; until `groundwork auth token` has made one, every
 * token is refused.
 */
export function devIssuerVerifier(appName: string, dataDir: string): JwtVerifier {
  let issuer: Promise<DevIssuer | undefined> | undefined;
  return verifierWith({ issuer: devIssuerName(appName), audience: appName }, async () => {
    issuer ??= readDevIssuer(appName, dataDir);
    const found = await issuer;
    if (!found) {
      issuer = undefined;
      throw new Error(`no development issuer key in ${dataDir} yet`);
    }
    return found.keys;
  });
}

async function issuerFor(appName: string, privateJwk: JWK): Promise<DevIssuer> {
  const issuer = devIssuerName(appName);
  const audience = appName;
  const privateKey = await importJWK(privateJwk, 'EdDSA');
  const { d: _private, ...publicJwk } = privateJwk;
  const keys = createLocalJWKSet({ keys: [publicJwk] });
  return {
    issuer,
    audience,
    sign: (subject, { claims = {}, ttlSeconds = 3600 } = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', kid: privateJwk.kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(privateKey),
    keys,
    verifier: () => verifierWith({ issuer, audience }, async () => keys),
  };
}
