import { z } from 'zod';

/** Users have integer identity ids; anything else in the path is a 400 naming `id`. */
export const UserIdParams = z.object({
  id: z.coerce.number().int().min(1).max(2_147_483_647),
});
