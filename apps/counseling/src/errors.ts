import { z } from 'zod';

/** The foundation's error body (groundwork ErrorBody), declared so /docs shows what a failure looks like. */
export const ErrorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
  requestId: z.string(),
});
