import { z } from 'zod';

/** Timestamps leave the API as ISO 8601 strings, whatever the driver returned. */
export const Timestamp = z.iso.datetime();
export const iso = (date: Date) => date.toISOString();
export const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

/** A JSON object (not an array or a scalar). */
export const JsonObject = z.record(z.string(), z.unknown());
