import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';

/** The key set a verifier checks signatures with: the issuer's JWKS, or the development issuer's own key. */
export type KeySource = () => Promise<JWTVerifyGetKey>;

export interface JwtSettings {
  /** `AUTH_ISSUER`: the `iss` every token must carry; its discovery document names the JWKS. */
  issuer: string;
  /** `AUTH_AUDIENCE`: the `aud` every token must include. */
  audience: string;
  /** `AUTH_JWKS_URL`: overrides the discovery document's `jwks_uri`. */
  jwksUrl?: string;
}

/** Asymmetric only: an HMAC token "signed" with the issuer's public key, or `alg: none`, never verifies. */
export const JWT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
/** Seconds of clock skew tolerated for `exp` and `nbf`. */
export const JWT_CLOCK_TOLERANCE_S = 30;
/** An unknown `kid` refetches the key set at most this often, so forged kids cannot hammer the issuer. */
export const JWKS_REFETCH_COOLDOWN_MS = 30_000;
/** Verified tokens remembered at once; the oldest is forgotten first. */
export const VERIFIED_TOKENS_MAX = 10_000;
/**
 * A verified token is trusted without its signature being checked again for at most this long (and never past
 * its `exp`), so a signing key the issuer withdraws stops working here within this time.
 */
export const VERIFIED_TOKEN_TTL_MS = 5 * 60_000;

export class TokenError extends Error {
  readonly reason: 'expired' | 'invalid';
  constructor(reason: 'expired' | 'invalid', message: string) {
    super(message);
    this.name = 'TokenError';
    this.reason = reason;
  }
}

export interface JwtVerifier {
  /** Resolves the verified claims (with a `sub`), or rejects with a TokenError. */
  verify(token: string): Promise<VerifiedClaims>;
}

/**
 * Verifies OpenID Connect ID or access tokens against the issuer's JWKS. jose caches the key set and fetches
 * it again when a token names an unknown `kid` (key rotation), at most once per cooldown.
 */
export function createJwtVerifier(
  settings: JwtSettings,
  { refetchCooldownMs = JWKS_REFETCH_COOLDOWN_MS }: { refetchCooldownMs?: number } = {},
): JwtVerifier {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet: KeySource = () => {
    keys ??= resolveJwksUrl(settings).then((url) =>
      createRemoteJWKSet(url, { cooldownDuration: refetchCooldownMs }),
    );
    // A failed discovery is retried on the next token rather than cached.
    keys.catch(() => {
      keys = undefined;
    });
    return keys;
  };
  return verifierWith(settings, keySet);
}

/**
 * Verifies against `keys` with the issuer, audience, algorithm and clock rules above. A token that verified is
 * remembered (see VERIFIED_TOKEN_TTL_MS): checking an RSA or EC signature costs more CPU than the rest of a
 * request. Only the claims are remembered; the user row is still read on every request, so a deleted or
 * blocked user is refused at once. Refusals are never remembered.
 */
export function verifierWith(
  settings: Pick<JwtSettings, 'issuer' | 'audience'>,
  keys: KeySource,
  { now = Date.now, remember = VERIFIED_TOKENS_MAX }: { now?: () => number; remember?: number } = {},
): JwtVerifier {
  const verified = new Map<string, { claims: VerifiedClaims; until: number }>();
  return {
    async verify(token) {
      const known = verified.get(token);
      if (known !== undefined) {
        if (now() < known.until) return known.claims;
        verified.delete(token);
      }
      const claims = await verifySignature(token, settings, keys);
      if (typeof claims.exp === 'number') {
        if (verified.size >= remember) verified.delete(verified.keys().next().value as string);
        verified.set(token, { claims, until: Math.min(claims.exp * 1000, now() + VERIFIED_TOKEN_TTL_MS) });
      }
      return claims;
    },
  };
}

type VerifiedClaims = JWTPayload & { sub: string };

async function verifySignature(
  token: string,
  settings: Pick<JwtSettings, 'issuer' | 'audience'>,
  keys: KeySource,
): Promise<VerifiedClaims> {
  try {
    const { payload } = await jwtVerify(token, await keys(), {
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: JWT_ALGORITHMS,
      clockTolerance: JWT_CLOCK_TOLERANCE_S,
    });
    if (!payload.sub) throw new TokenError('invalid', 'token has no subject');
    return payload as VerifiedClaims;
  } catch (error) {
    if (error instanceof TokenError) throw error;
    if (error instanceof errors.JWTExpired) throw new TokenError('expired', 'token has expired');
    // The reason stays in the server's log at debug level; the client learns only that it is invalid.
    throw new TokenError('invalid', 'token is not valid for this service');
  }
}

async function resolveJwksUrl(settings: JwtSettings): Promise<URL> {
  if (settings.jwksUrl) return new URL(settings.jwksUrl);
  const discovery = new URL(`${settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  const response = await fetch(discovery, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`OpenID discovery at ${discovery.href} answered ${response.status}`);
  const { jwks_uri: jwksUri } = (await response.json()) as { jwks_uri?: string };
  if (!jwksUri) throw new Error(`OpenID discovery at ${discovery.href} has no jwks_uri`);
  return new URL(jwksUri);
}
