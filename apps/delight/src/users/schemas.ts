import { safeText } from 'groundwork-pg';
import { z } from 'zod';
import type { UserPreferencesRow, UserRow } from '../schema.ts';
import { canonicalTimeZone, TIME_ZONES } from './timezones.ts';

/** Validates an IANA zone name and stores it in canonical case; the column is varchar(50). */
export const TimeZone = safeText()
  .trim()
  .min(1)
  .max(50)
  // The names the document lists; other spellings of a zone (`utc`, links like `EST`) are accepted too.
  .meta({ enum: TIME_ZONES })
  .transform((name, context) => {
    const canonical = canonicalTimeZone(name);
    if (!canonical) {
      context.addIssue({
        code: 'custom',
        message: `"${name}" is not an IANA time zone name (e.g. America/Los_Angeles, Europe/Paris, UTC)`,
      });
      return z.NEVER;
    }
    return canonical;
  })
  .meta({ description: 'IANA time zone name', example: 'America/Los_Angeles' });

/** 24-hour HH:MM, zero-padded, so string order is time order. */
const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const ClockTime = safeText().regex(CLOCK_TIME, 'must be a 24-hour time HH:MM (00:00 to 23:59)');

export const CustomHours = z
  .strictObject({ start: ClockTime, end: ClockTime, timezone: TimeZone })
  // zod runs this even when a time failed its format; only well-formed times are compared.
  .refine((h) => !(CLOCK_TIME.test(h.start) && CLOCK_TIME.test(h.end)) || h.start < h.end, {
    path: ['end'],
    message: 'must be after start (hours that cross midnight are not supported)',
  })
  .meta({
    description:
      'Hours within one day: end must be after start (hours that cross midnight are not supported).',
    example: { start: '09:00', end: '17:00', timezone: 'America/Los_Angeles' },
  });

export const CommunicationPreferences = z
  .strictObject({ email: z.boolean(), sms: z.boolean(), in_app: z.boolean() })
  .meta({ example: { email: true, sms: false, in_app: true } });

/** Clerk user ids look like `user_2abc...`. */
const ClerkUserId = safeText()
  .trim()
  .max(255)
  .regex(/^user_[A-Za-z0-9]+$/, 'must be a Clerk user id like user_2abcDEF...');

const Timestamp = z.iso.datetime({ offset: true });

export const UserCreate = z
  .strictObject({
    clerk_user_id: ClerkUserId,
    email: safeText(z.email()).max(255),
    timezone: TimeZone.default('UTC'),
  })
  .meta({ id: 'UserCreate' });
export type UserCreate = z.infer<typeof UserCreate>;

/** PUT replaces the whole preferences object: a field left out goes back to its default. */
export const PreferencesReplace = z
  .strictObject({
    custom_hours: CustomHours.nullable().default(null),
    theme: safeText().trim().min(1).max(50).default('modern'),
    communication_preferences: CommunicationPreferences.nullable().default(null),
    onboarding_completed: z.boolean().default(false),
  })
  .meta({ id: 'PreferencesReplace' });
export type PreferencesReplace = z.infer<typeof PreferencesReplace>;

export const PreferencesPublic = z
  .object({
    id: z.uuid(),
    user_id: z.uuid(),
    custom_hours: z.object({ start: z.string(), end: z.string(), timezone: z.string() }).nullable(),
    theme: z.string().nullable(),
    communication_preferences: z
      .object({ email: z.boolean(), sms: z.boolean(), in_app: z.boolean() })
      .nullable(),
    onboarding_completed: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'PreferencesPublic' });
export type PreferencesPublic = z.infer<typeof PreferencesPublic>;

export const UserPublic = z
  .object({
    id: z.uuid(),
    clerk_user_id: z.string(),
    email: z.string(),
    timezone: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'UserPublic' });
export type UserPublic = z.infer<typeof UserPublic>;

export const UserWithPreferences = UserPublic.extend({ preferences: PreferencesPublic.nullable() }).meta({
  id: 'UserWithPreferences',
});
export type UserWithPreferences = z.infer<typeof UserWithPreferences>;

export const ClerkIdParams = z.object({ clerkUserId: ClerkUserId });

/** The only ways rows leave the repository for a client; timestamps as ISO 8601 strings. */
export function toUserPublic(row: UserRow): UserPublic {
  return {
    id: row.id,
    clerk_user_id: row.clerkUserId,
    email: row.email,
    timezone: row.timezone,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toPreferencesPublic(row: UserPreferencesRow): PreferencesPublic {
  return {
    id: row.id,
    user_id: row.userId,
    custom_hours: row.customHours,
    theme: row.theme,
    communication_preferences: row.communicationPreferences,
    onboarding_completed: row.onboardingCompleted,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
