import { hash, timingSafeEqual } from 'node:crypto';

/** Operators' API keys (`ADMIN_API_KEYS`): each reaches every route of the app. */
export interface OperatorKeys {
  readonly count: number;
  /**
   * Constant time in the key's content: every configured key is compared, as SHA-256 digests. A key that
   * matched once is then found without hashing (see parseOperatorKeys).
   */
  matches(credential: string): boolean;
}

export const OPERATOR_KEY_MIN_LENGTH = 32;

const digest = (value: string) => hash('sha256', value, 'buffer');

/** Parses a comma-separated list; throws naming the entry (never its value) that is too short. */
export function parseOperatorKeys(raw: string | undefined): OperatorKeys {
  const keys = (raw ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
  keys.forEach((key, index) => {
    if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(key)) {
      throw new Error(
        `ADMIN_API_KEYS entry ${index + 1} has characters a Bearer header cannot carry; use base64 or hex`,
      );
    }
    if (key.length < OPERATOR_KEY_MIN_LENGTH) {
      throw new Error(
        `ADMIN_API_KEYS entry ${index + 1} is ${key.length} characters; each key needs at least ${OPERATOR_KEY_MIN_LENGTH} (openssl rand -base64 32)`,
      );
    }
  });
  const digests = keys.map(digest);
  /**
   * Presented keys that matched: the SHA-256 per request was ~2% of a request's CPU. Only a match is added,
   * so this holds at most one entry per configured key and cannot be filled by guesses; the keys are fixed
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
