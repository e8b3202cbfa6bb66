import { z } from 'zod';

/**
 * The one `{ id }` path-parameter schema of every app: a malformed id is a 400 naming `id` before any query
 * runs. `IdParams` for uuid keys, `IntegerIdParams` for integer identity keys (1 to the int4 maximum).
 */
export const IdParams = z.strictObject({ id: z.uuid('id must be a UUID') });
export type IdParams = z.infer<typeof IdParams>;

export const IntegerIdParams = z.strictObject({
  id: z.coerce
    .number('id must be a whole number')
    .int('id must be a whole number')
    .min(1, 'id must be at least 1')
    .max(2_147_483_647, 'id must be at most 2147483647'),
});
export type IntegerIdParams = z.infer<typeof IntegerIdParams>;
