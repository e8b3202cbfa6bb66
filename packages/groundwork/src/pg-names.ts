/** PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes. */
const MAX_BYTES = 63;

/** The first `bytes` bytes of `name` as UTF-8, never splitting a character. */
function clipBytes(name: string, bytes: number): string {
  let clipped = name;
  while (Buffer.byteLength(clipped) > bytes) clipped = clipped.slice(0, -1);
  return clipped;
}

/**
 * The name PostgreSQL gives an object it names itself (makeObjectName in its source): `<name1>_<name2>_<label>`,
 * the longer of the two names shortened first until the whole fits in 63 bytes. `users_pkey`,
 * `users_id_seq`, `users_id_not_null` (PostgreSQL 18).
 */
export function postgresObjectName(name1: string, name2: string | undefined, label: string): string {
  const overhead = (name2 === undefined ? 0 : 1) + label.length + 1;
  let [first, second] = [Buffer.byteLength(name1), name2 === undefined ? 0 : Buffer.byteLength(name2)];
  while (first + second > MAX_BYTES - overhead) {
    if (first > second) first--;
    else second--;
  }
  const parts = [clipBytes(name1, first), ...(name2 === undefined ? [] : [clipBytes(name2, second)]), label];
  return parts.join('_');
}

/** `name` as PostgreSQL stores it: clipped to 63 bytes. */
export const identifier = (name: string) => clipBytes(name, MAX_BYTES);
