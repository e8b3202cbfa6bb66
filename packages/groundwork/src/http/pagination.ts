import { z } from 'zod';

/**
 * The two list shapes the apps answer with. Offset pages (`?limit&offset` → `{data, count}`) give a total
 * for page numbers; keyset pages (`?limit&after` → `{items, next_after}`) stay fast however deep the client
 * reads, because `after` is the last key seen rather than a count of rows to skip.
 */
export interface PageLimits {
  /** Rows when the client gives no `limit` (default 20). */
  defaultLimit?: number;
  /** The largest `limit` accepted (default 100). */
  maxLimit?: number;
}

const limitOf = ({ defaultLimit = 20, maxLimit = 100 }: PageLimits) =>
  z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit);

export function offsetPageQuery(limits: PageLimits = {}) {
  return z.strictObject({ limit: limitOf(limits), offset: z.coerce.number().int().min(0).default(0) });
}

export function offsetPage<TItem extends z.ZodType>(item: TItem) {
  return z.strictObject({ data: z.array(item), count: z.number().int() });
}

/** `key` is the query's type for `after`, e.g. `z.coerce.number().int()` or `z.uuid()`. */
export function keysetPageQuery<TKey extends z.ZodType>(key: TKey, limits: PageLimits = {}) {
  return z.strictObject({ limit: limitOf(limits), after: key.optional() });
}

export function keysetPage<TItem extends z.ZodType, TKey extends z.ZodType>(item: TItem, key: TKey) {
  return z.strictObject({ items: z.array(item), next_after: key.nullable() });
}

/**
 * A keyset page from rows fetched with `limit + 1`: the extra row only says another page exists, and the
 * last row shown gives `next_after`.
 */
export function toKeysetPage<TRow, TItem, TKey>(
  rows: TRow[],
  limit: number,
  keyOf: (row: TRow) => TKey,
  toItem: (row: TRow) => TItem,
): { items: TItem[]; next_after: TKey | null } {
  const page = rows.slice(0, limit);
  return { items: page.map(toItem), next_after: rows.length > limit ? keyOf(page.at(-1)!) : null };
}
