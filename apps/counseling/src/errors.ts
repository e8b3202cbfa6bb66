import { errorBodySchema } from 'groundwork-pg';

/** The foundation's error body (groundwork ErrorBody), declared so /docs shows what a failure looks like. */
export const ErrorResponse = errorBodySchema;
