import {
  isoTimestamp,
  newPassword,
  nonEmptyPatch,
  offsetPage,
  offsetPageQuery,
  safeText,
} from 'groundwork-pg';
import { z } from 'zod';
import {
  DAILY_STUDY_TIME,
  DARK_MODES,
  EMAIL_MAX,
  KNOWLEDGE_LEVELS,
  REFERRAL_SOURCES,
  TARGET_SCORE,
  type UserRow,
} from '../schema.ts';

/**
 * The zod family of a user. Every database rule (lengths, ranges, enums, NOT NULL) is repeated here so a
 * client gets a 400 naming the field before the database would answer 422; the constants come from
 * schema.ts, so the two cannot drift apart.
 */

/**
 * Trimmed and lower-cased: emails are stored in one case (the unique index on lower(email) backs it). The
 * document states the address form the pipe checks (surrounding blanks are forgiven, not documented).
 */
export const Email = safeText()
  .trim()
  .toLowerCase()
  .max(EMAIL_MAX, `email must be at most ${EMAIL_MAX} characters`)
  .meta({ format: 'email', pattern: z.regexes.email.source })
  .pipe(z.email('email must be a valid email address'));

/** NIST 800-63B, as the foundation checks it: length and the common-password list, no composition rules. */
export const Password = newPassword();

export const KnowledgeLevel = z.enum(KNOWLEDGE_LEVELS);
export const ReferralSource = z.enum(REFERRAL_SOURCES);
export const DarkMode = z.enum(DARK_MODES);
export const ExamDate = z.iso.date('exam_date must be a date (YYYY-MM-DD)');
export const TargetScore = z
  .number()
  .int('target_score must be a whole number')
  .min(TARGET_SCORE.min, `target_score must be between ${TARGET_SCORE.min} and ${TARGET_SCORE.max}`)
  .max(TARGET_SCORE.max, `target_score must be between ${TARGET_SCORE.min} and ${TARGET_SCORE.max}`);
export const DailyStudyTime = z
  .number()
  .int('daily_study_time must be a whole number of minutes')
  .min(
    DAILY_STUDY_TIME.min,
    `daily_study_time must be between ${DAILY_STUDY_TIME.min} and ${DAILY_STUDY_TIME.max} minutes`,
  )
  .max(
    DAILY_STUDY_TIME.max,
    `daily_study_time must be between ${DAILY_STUDY_TIME.min} and ${DAILY_STUDY_TIME.max} minutes`,
  );
/** The column is text; the cap is the API's, to keep a profile field a profile field. */
export const MOTIVATION_MAX = 2000;
export const Motivation = safeText().max(
  MOTIVATION_MAX,
  `motivation must be at most ${MOTIVATION_MAX} characters`,
);

export const UserCreate = z.strictObject({ email: Email, password: Password }).meta({ id: 'UserCreate' });
export type UserCreate = z.infer<typeof UserCreate>;

/** Profile and onboarding edits. `null` clears an onboarding answer; dark_mode is NOT NULL, so no null. */
export const UserUpdate = nonEmptyPatch(
  z.strictObject({
    exam_date: ExamDate.nullable().optional(),
    target_score: TargetScore.nullable().optional(),
    daily_study_time: DailyStudyTime.nullable().optional(),
    knowledge_level: KnowledgeLevel.nullable().optional(),
    motivation: Motivation.nullable().optional(),
    referral_source: ReferralSource.nullable().optional(),
    dark_mode: DarkMode.optional(),
  }),
).meta({ id: 'UserUpdate' });
export type UserUpdate = z.infer<typeof UserUpdate>;

/** Everything but hashed_password; timestamps as ISO 8601 strings. */
export const UserResponse = z
  .strictObject({
    id: z.uuid(),
    email: z.string(),
    exam_date: z.string().nullable(),
    target_score: z.number().int().nullable(),
    daily_study_time: z.number().int().nullable(),
    knowledge_level: KnowledgeLevel.nullable(),
    motivation: z.string().nullable(),
    referral_source: ReferralSource.nullable(),
    is_admin: z.boolean(),
    dark_mode: DarkMode,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'UserResponse' });
export type UserResponse = z.infer<typeof UserResponse>;

export const UserListQuery = offsetPageQuery({ defaultLimit: 20, maxLimit: 100 });
export type UserListQuery = z.infer<typeof UserListQuery>;

export const UserList = offsetPage(UserResponse).meta({ id: 'UserList' });
export type UserList = z.infer<typeof UserList>;

/** The only way a row leaves the repository for a client: the password hash is not copied. */
export function toUserResponse(row: UserRow): UserResponse {
  return {
    id: row.id,
    email: row.email,
    exam_date: row.examDate,
    target_score: row.targetScore,
    daily_study_time: row.dailyStudyTime,
    knowledge_level: row.knowledgeLevel,
    motivation: row.motivation,
    referral_source: row.referralSource,
    is_admin: row.isAdmin,
    dark_mode: row.darkMode,
    created_at: isoTimestamp(row.createdAt),
    updated_at: isoTimestamp(row.updatedAt),
  };
}
