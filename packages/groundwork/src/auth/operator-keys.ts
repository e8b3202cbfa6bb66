import { hash } from 'node:crypto';
import { operatorKeyList } from '../config.ts';

/** Operators' API keys (`ADMIN_API_KEYS`): each reaches every route of the app. */
export interface OperatorKeys {
  readonly count: number;
  /** Constant time in the key's content: every configured key is compared, as SHA-256 digests. */
  matches(credential: string): boolean;
}

// Hex, not a Buffer: Node's one-shot hash allocates a Buffer result on a much slower path.
const digest = (value: string) => hash('sha256', value, 'hex');

/** Whether two digests of equal length are equal, looking at every character whatever they hold. */
function sameDigest(known: string, candidate: string): boolean {
  let difference = 0;
  for (let i = 0; i < known.length; i++) difference |= known.charCodeAt(i) ^ candidate.charCodeAt(i);
  return difference === 0;
}

/** Parses a comma-separated list (see operatorKeyList); throws naming the entry (never its value) that is wrong. */
export function parseOperatorKeys(raw: string | undefined): OperatorKeys {
  const keys = operatorKeyList(raw);
  const digests = keys.map(digest);
  return {
    count: digests.length,
    matches(credential) {
      const candidate = digest(credential);
      let found = false;
      for (const known of digests) found = sameDigest(known, candidate) || found;
      return found;
    },
  };
}
