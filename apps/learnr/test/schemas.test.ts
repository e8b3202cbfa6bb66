import { IdParams } from 'groundwork-pg';
import { describe, expect, it } from 'vitest';
import type { UserRow } from '../src/schema.ts';
import {
  toUserResponse,
  UserCreate,
  UserList,
  UserListQuery,
  UserResponse,
  UserUpdate,
} from '../src/users/schemas.ts';

/** The messages zod reports for `input`, by field, so a test reads like the rule it checks. */
function issues(schema: { safeParse(input: unknown): { success: boolean; error?: any } }, input: unknown) {
  const result = schema.safeParse(input);
  if (result.success) return {};
  const byField: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const field = issue.path.join('.') || '(object)';
    byField[field] = [...(byField[field] ?? []), issue.message];
  }
  return byField;
}

describe('UserCreate', () => {
  it('accepts an email and a strong enough password, storing the email trimmed and lower-cased', () => {
    expect(UserCreate.parse({ email: '  Ann@Example.IO ', password: 'letters1' })).toEqual({
      email: 'ann@example.io',
      password: 'letters1',
    });
  });

  it('rejects an invalid email format', () => {
    expect(issues(UserCreate, { email: 'ann-at-example.io', password: 'letters1' })).toEqual({
      email: ['email must be a valid email address'],
    });
  });

  it('rejects an email longer than the 255-character column', () => {
    const email = `${'a'.repeat(250)}@x.io`;
    expect(email.length).toBe(255);
    expect(UserCreate.safeParse({ email, password: 'letters1' }).success).toBe(true);
    expect(issues(UserCreate, { email: `a${email}`, password: 'letters1' }).email).toContain(
      'email must be at most 255 characters',
    );
  });

  it('reports each password rule (NIST 800-63B) with its own message, and no composition rule', () => {
    expect(issues(UserCreate, { email: 'a@x.io', password: 'a1' }).password).toEqual([
      'must be at least 8 characters',
    ]);
    for (const common of ['12345678', 'password', 'Password1']) {
      expect(issues(UserCreate, { email: 'a@x.io', password: common }).password).toEqual([
        'is on a list of common or breached passwords; choose another',
      ]);
    }
    expect(issues(UserCreate, { email: 'a@x.io', password: 'x'.repeat(1024) }).password).toEqual([
      'must be at most 128 characters',
    ]);
    // Letters only, digits only, or no ASCII at all: accepted when long enough and not common.
    for (const password of ['abcdefghjk', '73915824601', 'éééééééé', 'x'.repeat(128)]) {
      expect(UserCreate.safeParse({ email: 'a@x.io', password }).success, password).toBe(true);
    }
  });

  it('counts characters as code points', () => {
    expect(UserCreate.safeParse({ email: 'a@x.io', password: '😀'.repeat(8) }).success).toBe(true);
    expect(issues(UserCreate, { email: 'a@x.io', password: '😀'.repeat(129) }).password).toEqual([
      'must be at most 128 characters',
    ]);
  });

  it('requires both fields and rejects unknown ones (no is_admin through sign-up)', () => {
    expect(Object.keys(issues(UserCreate, {}))).toEqual(['email', 'password']);
    expect(issues(UserCreate, { email: 'a@x.io', password: 'letters1', is_admin: true })).toEqual({
      '(object)': ['Unrecognized key: "is_admin"'],
    });
  });
});

describe('UserUpdate', () => {
  it('accepts every onboarding field and dark_mode, and null to clear an answer', () => {
    const full = {
      exam_date: '2026-06-30',
      target_score: 85,
      daily_study_time: 45,
      knowledge_level: 'Intermediate',
      motivation: 'career change',
      referral_source: 'Friend',
      dark_mode: 'dark',
    };
    expect(UserUpdate.parse(full)).toEqual(full);
    expect(UserUpdate.parse({ exam_date: null, target_score: null, motivation: null })).toEqual({
      exam_date: null,
      target_score: null,
      motivation: null,
    });
  });

  it('mirrors check_target_score_range (0..100, whole numbers)', () => {
    expect(UserUpdate.safeParse({ target_score: 0 }).success).toBe(true);
    expect(UserUpdate.safeParse({ target_score: 100 }).success).toBe(true);
    expect(issues(UserUpdate, { target_score: -1 })).toEqual({
      target_score: ['target_score must be between 0 and 100'],
    });
    expect(issues(UserUpdate, { target_score: 101 })).toEqual({
      target_score: ['target_score must be between 0 and 100'],
    });
    expect(issues(UserUpdate, { target_score: 50.5 })).toEqual({
      target_score: ['target_score must be a whole number'],
    });
  });

  it('mirrors check_daily_study_time_range (1..1440 minutes)', () => {
    expect(UserUpdate.safeParse({ daily_study_time: 1 }).success).toBe(true);
    expect(UserUpdate.safeParse({ daily_study_time: 1440 }).success).toBe(true);
    for (const minutes of [0, 1441]) {
      expect(issues(UserUpdate, { daily_study_time: minutes })).toEqual({
        daily_study_time: ['daily_study_time must be between 1 and 1440 minutes'],
      });
    }
  });

  it('mirrors check_knowledge_level, check_referral_source and check_dark_mode (exact, case-sensitive values)', () => {
    expect(Object.keys(issues(UserUpdate, { knowledge_level: 'beginner' }))).toEqual(['knowledge_level']);
    expect(Object.keys(issues(UserUpdate, { referral_source: 'TV' }))).toEqual(['referral_source']);
    expect(Object.keys(issues(UserUpdate, { dark_mode: 'Dark' }))).toEqual(['dark_mode']);
  });

  it('rejects null for dark_mode, which is NOT NULL', () => {
    expect(Object.keys(issues(UserUpdate, { dark_mode: null }))).toEqual(['dark_mode']);
  });

  it('requires a real calendar date for exam_date', () => {
    expect(issues(UserUpdate, { exam_date: '2026-02-30' })).toEqual({
      exam_date: ['exam_date must be a date (YYYY-MM-DD)'],
    });
    expect(Object.keys(issues(UserUpdate, { exam_date: '30/06/2026' }))).toEqual(['exam_date']);
  });

  it('caps motivation at 2000 characters', () => {
    expect(UserUpdate.safeParse({ motivation: 'x'.repeat(2000) }).success).toBe(true);
    expect(issues(UserUpdate, { motivation: 'x'.repeat(2001) })).toEqual({
      motivation: ['motivation must be at most 2000 characters'],
    });
  });

  it('rejects an empty update, unknown fields and fields that are not the user’s to change', () => {
    expect(issues(UserUpdate, {})).toEqual({ '(object)': ['give at least one field to change'] });
    expect(issues(UserUpdate, { is_admin: true })['(object)']).toContain('Unrecognized key: "is_admin"');
    expect(issues(UserUpdate, { email: 'b@x.io' })['(object)']).toContain('Unrecognized key: "email"');
  });
});

describe('query and path schemas', () => {
  it('defaults and bounds the page', () => {
    expect(UserListQuery.parse({})).toEqual({ limit: 20, offset: 0 });
    expect(UserListQuery.parse({ limit: '5', offset: '10' })).toEqual({ limit: 5, offset: 10 });
    expect(Object.keys(issues(UserListQuery, { limit: '0' }))).toEqual(['limit']);
    expect(Object.keys(issues(UserListQuery, { limit: '101' }))).toEqual(['limit']);
    expect(Object.keys(issues(UserListQuery, { offset: '-1' }))).toEqual(['offset']);
    expect(issues(UserListQuery, { page: '2' })).toEqual({ '(object)': ['Unrecognized key: "page"'] });
  });

  it('requires a UUID id', () => {
    expect(issues(IdParams, { id: 'abc' })).toEqual({ id: ['id must be a UUID'] });
  });
});

describe('UserResponse', () => {
  const row: UserRow = {
    id: '0b6f1c8e-8a7e-4d4e-9a53-2f0d6c1f7a10',
    email: 'ann@x.io',
    hashedPassword: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    examDate: '2026-06-30',
    targetScore: 80,
    dailyStudyTime: 30,
    knowledgeLevel: 'Advanced',
    motivation: null,
    referralSource: 'Search',
    isAdmin: false,
    darkMode: 'auto',
    createdAt: '2026-01-02 03:04:05.678+00',
    updatedAt: '2026-01-02 04:04:05.678+00',
  };

  it('carries every field but the password hash, with ISO 8601 timestamps', () => {
    const response = toUserResponse(row);
    expect(UserResponse.parse(response)).toEqual(response);
    expect(JSON.stringify(response)).not.toContain('argon2');
    expect(response).not.toHaveProperty('hashed_password');
    expect(response.created_at).toBe('2026-01-02T03:04:05.678Z');
    expect(response.updated_at).toBe('2026-01-02T04:04:05.678Z');
  });

  it('refuses to serialize a hash that slipped into a response object', () => {
    expect(UserResponse.safeParse({ ...toUserResponse(row), hashed_password: 'x' }).success).toBe(false);
    expect(UserList.safeParse({ data: [toUserResponse(row)], count: 1 }).success).toBe(true);
  });
});
