import {
  databaseErrorOf,
  type Executor,
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

const rings = new WeakMap<Settings, KeyRing | undefined>();

/**
 * The SECRET_KEYS key ring, parsed once per settings object (the verify hook and the routes share it).
 * Undefined only when SECRET_KEYS is unset, which the foundation allows in development and tests alone
 * (requireSecretKeys refuses it in production); token storage is then disabled, see README.
 */
export function keyRingOf(settings: Settings): KeyRing | undefined {
  if (rings.has(settings)) return rings.get(settings);
  // parseKeyRing throws SecretKeyError naming the bad entry, never its key material.
  const ring = settings.secretKeys === undefined ? undefined : parseKeyRing(settings.secretKeys);
  rings.set(settings, ring);
  return ring;
}

/** The app's verify hook: a clear refusal to start instead of garbage (or a 500) at the first token read. */
export async function verifySecrets(settings: Settings, db: Executor<typeof schema>): Promise<void> {
  try {
    await verifyStoredTokens(db, keyRingOf(settings));
  } catch (error) {
    if (error instanceof SecretKeyError)
      throw new SecretKeyError(`mail-agent cannot start: ${error.message}`);
    throw error;
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
  db: Executor<typeof schema>,
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
