import { hash, timingSafeEqual } from 'node:crypto';
import { operatorKeyList } from '../config.ts';

/** Operators' API keys (`ADMIN_API_KEYS`): each reaches every route of the app. */
export interface OperatorKeys {
  readonly count: number;
  /**
   * Constant time in the key's content: every configured key is compared, as SHA-256 digests. A key that
   * matched once is then found without hashing (see parseOperatorKeys).
   */
  matches(credential: string): boolean;
}

const digest = (value: string) => hash('sha256', value, 'buffer');

/** Parses a comma-separated list (see operatorKeyList); throws naming the entry (never its value) that is wrong. */
export function parseOperatorKeys(raw: string | undefined): OperatorKeys {
  const keys = operatorKeyList(raw);
  const digests = keys.map(digest);
  /**
   * Presented keys that matched, so a repeated key skips the SHA-256 a request would otherwise pay for (a
   * visible share of its CPU, docs/performance.md). Only a match is added, so this holds at most one entry per configured key and cannot be filled by guesses; the keys are fixed
   * for the life of the process (rotating one means restarting), so an entry never outlives its key. A
   * lookup compares content only when V8's hash of the string, seeded at random per process, equals an
   * entry's, which a guess cannot steer; every other credential takes the constant-time path.
   */
  const matched = new Set<string>();
  return {
    count: digests.length,
    matches(credential) {
      if (matched.has(credential)) return true;
      const candidate = digest(credential);
      let found = false;
      for (const known of digests) found = timingSafeEqual(known, candidate) || found;
      if (found) matched.add(credential);
      return found;
    },
  };
}
