import { hash, randomBytes } from 'node:crypto';

/** 256 random bits, base64url: what a client keeps. Only its digest is stored. */
export function createSessionToken(): { token: string; digest: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, digest: sessionTokenDigest(token) };
}

/** SHA-256 hex of a session token: the stored form, so a leaked table cannot be replayed. */
export function sessionTokenDigest(token: string): string {
  return hash('sha256', token, 'hex');
}
