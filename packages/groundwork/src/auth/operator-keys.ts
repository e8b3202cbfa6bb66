import { createHash, timingSafeEqual } from 'node:crypto';

/** Operators' API keys (`ADMIN_API_KEYS`): each reaches every route of the app. */
export interface OperatorKeys {
  readonly count: number;
  /** Constant time in the key's content: every configured key is compared, as SHA-256 digests. */
  matches(credential: string): boolean;
}

export const OPERATOR_KEY_MIN_LENGTH = 32;

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

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
  return {
    count: digests.length,
    matches(credential) {
      const candidate = digest(credential);
      let matched = false;
      for (const known of digests) matched = timingSafeEqual(known, candidate) || matched;
      return matched;
    },
  };
}
