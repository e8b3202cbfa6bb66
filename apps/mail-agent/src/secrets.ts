import {
  type Database,
  databaseErrorOf,
  developmentKeyRing,
  isUnavailable,
  type KeyRing,
  open,
  parseKeyRing,
  SecretError,
  SecretKeyError,
  type Settings,
} from 'groundwork-pg';
import type * as schema from './schema.ts';
import { tokenPlace } from './users/gmail-tokens.ts';
import { createUsersRepository, type UsersRepository } from './users/repository.ts';

export interface AppKeys {
  ring: KeyRing | undefined;
  /** Set when SECRET_KEYS is unset in development and the ring is the data directory's generated key. */
  development?: { file: string; created: boolean };
}

const resolved = new WeakMap<Settings, AppKeys>();

/**
 * The Gmail token keys, resolved once per settings object (the verify hook at start, the reseal script):
 * SECRET_KEYS; in development without it, a key generated once into the data directory. Without SECRET_KEYS
 * elsewhere the ring is undefined: production refuses to start (requireSecretKeys), and in tests token
 * storage answers 503, see README.
 */
export function loadKeys(settings: Settings): AppKeys {
  let keys = resolved.get(settings);
  if (keys) return keys;
  // parseKeyRing throws SecretKeyError naming the bad entry, never its key material.
  if (settings.secretKeys !== undefined) keys = { ring: parseKeyRing(settings.secretKeys) };
  else if (settings.nodeEnv === 'development') {
    const { ring, file, created } = developmentKeyRing(settings.dataDir);
    keys = { ring, development: { file, created } };
  } else keys = { ring: undefined };
  resolved.set(settings, keys);
  return keys;
}

/**
 * The keys the routes seal with: those start resolved, else SECRET_KEYS alone, so an app mounted without its
 * start checks (for its OpenAPI document) writes no key file.
 */
export function keysOf(settings: Settings): AppKeys {
  return (
    resolved.get(settings) ?? {
      ring: settings.secretKeys === undefined ? undefined : parseKeyRing(settings.secretKeys),
    }
  );
}

/** The one log line of a start on the development key, as Rails says it uses its development secret. */
export function developmentKeyNotice({ file, created }: NonNullable<AppKeys['development']>): string {
  return (
    `mail-agent: SECRET_KEYS is not set, so Gmail tokens are sealed with the development key ` +
    `${created ? 'just generated in' : 'in'} ${file} (development only; set SECRET_KEYS to use your own)`
  );
}

/** The app's verify hook: a clear refusal to start instead of garbage (or a 500) at the first token read. */
export async function verifySecrets(settings: Settings, db: Database<typeof schema>): Promise<void> {
  let development: AppKeys['development'];
  try {
    const keys = loadKeys(settings);
    development = keys.development;
    await verifyStoredTokens(db, keys.ring);
  } catch (error) {
    if (!(error instanceof SecretKeyError)) throw error;
    const source = development ? ` (SECRET_KEYS is not set, so this used ${development.file})` : '';
    throw new SecretKeyError(`mail-agent cannot start: ${error.message}${source}`);
  }
}

const RESEAL_HINT = 'npm run secrets:reseal -w apps/mail-agent';

/**
 * Refuses to start when the stored tokens cannot be opened with SECRET_KEYS: a key id the ring lacks (a key
 * retired before re-sealing), a different key under a known id, or no keys at all while tokens exist.
 * One token per key id is opened, so the cost is one scan of users, not one decryption per row.
 * An unreachable or unmigrated database is not this check's business: readiness reports it.
 */
export async function verifyStoredTokens(
  db: Database<typeof schema>,
  ring: KeyRing | undefined,
): Promise<void> {
  let samples: Awaited<ReturnType<UsersRepository['sealedKeySamples']>>;
  try {
    samples = await createUsersRepository(db).sealedKeySamples();
  } catch (error) {
    if (isUnavailable(error) || databaseErrorOf(error)?.code === '42P01') return;
    throw error;
  }
  if (samples.length === 0) return;
  if (ring === undefined) {
    const total = await createUsersRepository(db).countWithTokens();
    throw new SecretKeyError(
      `${total} user(s) have sealed Gmail tokens but SECRET_KEYS is not set; ` +
        `set it to the key(s) they were sealed with (key ids: ${samples.map((s) => s.keyId).join(', ')})`,
    );
  }
  for (const sample of samples) {
    if (!ring.byId.has(sample.keyId)) {
      throw new SecretKeyError(
        `${sample.users} user(s) have Gmail tokens sealed under key id ` +
          `"${sample.keyId}", which SECRET_KEYS does not contain; list that key after the current one ` +
          `and run ${RESEAL_HINT} before retiring it`,
      );
    }
    try {
      open(ring, sample.sealed, tokenPlace(sample.userId, sample.token));
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      throw new SecretKeyError(
        `SECRET_KEYS key "${sample.keyId}" does not open the stored Gmail tokens ` +
          `sealed under that id (a different key was given that id); restore the original key`,
      );
    }
  }
}
