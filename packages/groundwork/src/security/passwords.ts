import * as argon2 from '@node-rs/argon2';

// The package declares Algorithm/Version as ambient const enums, which isolatedModules cannot
// inline (and the runtime objects are empty), so the numeric values are spelled out here.
const ARGON2ID = 2;
const VERSION_0X13 = 1;

// OWASP Password Storage Cheat Sheet, argon2id minimum: 19 MiB, 2 passes, 1 lane.
const PARAMS = {
  algorithm: ARGON2ID,
  version: VERSION_0X13,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const;

/** Hashes on a libuv worker thread, so the event loop keeps serving requests meanwhile. */
export function hashPassword(plain: string): Promise<string> {
  return argon2.hash(plain, PARAMS);
}

/** Resolves false for a wrong password and for a hash that cannot be decoded. */
export async function verifyPassword(hash: string, plain: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, plain);
  } catch {
    return false;
  }
}

/**
 * True when the hash was not made with the current algorithm and parameters, so it should be
 * replaced after the next successful login. An undecodable hash also counts: it can never verify.
 */
export function needsRehash(hash: string): boolean {
  try {
    const used = argon2.parseOptions(hash);
    return (
      used.algorithm !== PARAMS.algorithm ||
      used.version !== PARAMS.version ||
      used.memoryCost !== PARAMS.memoryCost ||
      used.timeCost !== PARAMS.timeCost ||
      used.parallelism !== PARAMS.parallelism ||
      used.outputLen !== PARAMS.outputLen
    );
  } catch {
    return true;
  }
}
