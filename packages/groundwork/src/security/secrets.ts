import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateDirectory } from '../private-directory.ts';

export class SecretError extends Error {
  override name = 'SecretError';
}

/** A SECRET_KEYS setting that cannot be used; the message names the entry, never its key material. */
export class SecretKeyError extends SecretError {
  override name = 'SecretKeyError';
}

export interface KeyRing {
  current: { id: string; key: Buffer };
  byId: Map<string, Buffer>;
}

/** v1 binds the key id only; v2 also binds where the value lives (table, column, row id). */
const VERSIONS = ['v1', 'v2'] as const;
type Version = (typeof VERSIONS)[number];
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
// 96-bit IVs are the size GCM is specified for; random IVs stay safe well past any realistic token count.
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64_ANY = /^[A-Za-z0-9+/_-]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const GENERATE_HINT = 'generate one with: groundwork secrets generate-key';

/**
 * Parses `<keyId>:<base64 key>[,<keyId>:<base64 key>...]`. The first entry seals; every entry opens,
 * so a retired key stays listed until `reseal` has moved its values to the new one.
 */
export function parseKeyRing(spec: string): KeyRing {
  const entries = spec.split(',').map((entry) => entry.trim());
  if (entries.length === 1 && entries[0] === '') {
    throw new SecretKeyError(`SECRET_KEYS is empty; ${GENERATE_HINT}`);
  }
  const byId = new Map<string, Buffer>();
  let current: KeyRing['current'] | undefined;
  for (const [index, entry] of entries.entries()) {
    const where = `SECRET_KEYS entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon === -1) {
      throw new SecretKeyError(`${where}: expected '<keyId>:<base64 key>'; ${GENERATE_HINT}`);
    }
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    // The id is not echoed while invalid: a malformed entry may have key material in that position.
    if (!KEY_ID.test(id)) {
      throw new SecretKeyError(`${where}: key id must be 1-32 characters of A-Z a-z 0-9 _ -`);
    }
    if (byId.has(id)) {
      throw new SecretKeyError(`${where}: duplicate key id "${id}"; give each key its own id`);
    }
    // Buffer.from silently skips characters outside the alphabet, so check it first.
    if (!BASE64_ANY.test(encoded)) {
      throw new SecretKeyError(`${where}: key is not base64 or base64url; ${GENERATE_HINT}`);
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new SecretKeyError(
        `${where}: key must be ${KEY_BYTES} bytes of base64 (got ${key.length}); ${GENERATE_HINT}`,
      );
    }
    byId.set(id, key);
    current ??= { id, key };
  }
  // entries is never empty, so the first iteration has set current.
  return { current: current!, byId };
}

/** A new SECRET_KEYS entry; the default id is the UTC date, which sorts and tells the key's age. */
export function generateKey(id = 'k' + new Date().toISOString().slice(0, 10).replaceAll('-', '')): string {
  if (!KEY_ID.test(id)) {
    throw new SecretKeyError('key id must be 1-32 characters of A-Z a-z 0-9 _ -');
  }
  return `${id}:${randomBytes(KEY_BYTES).toString('base64url')}`;
}

/** The file, in an app's data directory, that holds its development key. */
export const DEV_SECRET_KEYS_FILE = 'groundwork-dev-secret-keys';

/**
 * For development without SECRET_KEYS only: a key ring of one key kept in the app's data directory, generated
 * (mode 0600) on first use, as Rails keeps its development secret in a file. Sealing then works on a fresh
 * checkout, and what was sealed still opens after a restart. `created` tells the caller to say so.
 */
export function developmentKeyRing(dataDir: string): { ring: KeyRing; file: string; created: boolean } {
  createPrivateDirectory(dataDir);
  const file = join(dataDir, DEV_SECRET_KEYS_FILE);
  // The id says where the key came from and when, so tokens sealed under a lost file name it in errors.
  const entry = generateKey(`dev-${new Date().toISOString().replace(/[-:]|\.\d+Z$/g, '')}`);
  try {
    writeFileSync(file, `${entry}\n`, { mode: 0o600, flag: 'wx' });
    return { ring: parseKeyRing(entry), file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  try {
    return { ring: parseKeyRing(readFileSync(file, 'utf8').trim()), file, created: false };
  } catch (error) {
    if (error instanceof SecretKeyError) throw new SecretKeyError(`${file}: ${error.message}`);
    throw error;
  }
}

/**
 * Where a sealed value is stored. A v2 value opens only there: a token copied into another row or column
 * fails authentication instead of handing one account's secret to another.
 */
export interface SealedPlace {
  table: string;
  column: string;
  rowId: string | number;
}

// The version and key id (and for v2 the value's place) are authenticated with the ciphertext, so
// relabelling a value with another key id, or moving it, fails authentication. JSON keeps the parts apart
// whatever characters the names hold.
function additionalData(version: Version, keyId: string, place: SealedPlace | undefined): Buffer {
  if (version === 'v1') return Buffer.from(`v1.${keyId}`, 'utf8');
  if (!place) throw new SecretError('a v2 sealed secret opens only with its table, column and row id');
  return Buffer.from(JSON.stringify(['v2', keyId, place.table, place.column, String(place.rowId)]), 'utf8');
}

/**
 * Seals under the ring's current key. With `place` (every new value should have one) the v2 format binds it;
 * without, the v1 format, which opens wherever it is copied.
 */
export function seal(ring: KeyRing, plaintext: string, place?: SealedPlace): string {
  const { id, key } = ring.current;
  const version: Version = place ? 'v2' : 'v1';
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(version, id, place));
  const payload = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${version}.${id}.${iv.toString('base64url')}.${payload.toString('base64url')}`;
}

interface Parsed {
  version: Version;
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

// Accepts only the canonical encoding, so no two strings open to the same value.
function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function parse(sealed: string): Parsed {
  // Messages describe the problem only: the sealed value itself is as sensitive as a token.
  const malformed = new SecretError(
    `malformed sealed secret: expected 'v1.<keyId>.<iv>.<ciphertext>' or 'v2.<keyId>.<iv>.<ciphertext>'`,
  );
  const parts = sealed.split('.');
  if (parts.length !== 4) throw malformed;
  const [version, keyId, ivText, payloadText] = parts as [string, string, string, string];
  if (!VERSIONS.includes(version as Version) || !KEY_ID.test(keyId)) throw malformed;
  const iv = decodeBase64url(ivText);
  const payload = decodeBase64url(payloadText);
  if (iv?.length !== IV_BYTES || payload === undefined || payload.length < TAG_BYTES) throw malformed;
  return {
    version: version as Version,
    keyId,
    iv,
    ciphertext: payload.subarray(0, payload.length - TAG_BYTES),
    tag: payload.subarray(payload.length - TAG_BYTES),
  };
}

/** Opens a value; a v2 value needs the place it was sealed for (a v1 value ignores it). */
export function open(ring: KeyRing, sealed: string, place?: SealedPlace): string {
  const { version, keyId, iv, ciphertext, tag } = parse(sealed);
  const key = ring.byId.get(keyId);
  if (key === undefined) {
    throw new SecretError(`sealed secret uses unknown key id "${keyId}"; add that key to SECRET_KEYS`);
  }
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(version, keyId, place));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretError(
      `sealed secret failed authentication under key id "${keyId}" ` +
        (version === 'v2'
          ? '(tampered, moved from another row or column, or a different key with that id)'
          : '(tampered, or a different key with that id)'),
    );
  }
}

export function keyIdOf(sealed: string): string {
  return parse(sealed).keyId;
}

/** True when `sealed` is already in the form `seal(ring, _, place)` writes: current key, v2 when placed. */
export function isCurrent(ring: KeyRing, sealed: string, place?: SealedPlace): boolean {
  const { version, keyId } = parse(sealed);
  return keyId === ring.current.id && version === (place ? 'v2' : 'v1');
}

/**
 * Moves a value under the current key and, given its place, into the v2 format that binds it. The value is
 * always opened first, even when it is already current, so a rotation run reports corrupted values instead
 * of carrying them forward.
 */
export function reseal(ring: KeyRing, sealed: string, place?: SealedPlace): string {
  const plaintext = open(ring, sealed, place);
  return isCurrent(ring, sealed, place) ? sealed : seal(ring, plaintext, place);
}
