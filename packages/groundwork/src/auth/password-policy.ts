import { commonPasswords } from '../adapters/common-passwords.ts';
import { safeText } from '../http/input.ts';

/**
 * NIST SP 800-63B memorized secrets: at least 8 characters, up to 128 accepted (the guideline asks for at
 * least 64), the same maximum wherever a password is sent, no composition rules, and none of the common or
 * breached passwords. Lengths count Unicode code points, as the guideline does.
 */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

const codePoints = (value: string) => [...value].length;

/** The rule a new password breaks, or undefined: the message a 400 names for the field. */
export function newPasswordProblem(password: string): string | undefined {
  const length = codePoints(password);
  if (length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  if (commonPasswords().has(password.toLowerCase())) {
    return 'is on a list of common or breached passwords; choose another';
  }
  return undefined;
}

/** A new password (registration, change, reset): refused with the rule it breaks. */
export function newPassword() {
  return safeText()
    .check((context) => {
      const problem = newPasswordProblem(context.value);
      if (problem) context.issues.push({ code: 'custom', message: problem, input: context.value });
    })
    .describe(
      `${PASSWORD_MIN} to ${PASSWORD_MAX} characters, not a common or breached password; no other rules`,
    );
}

/** A password presented to log in or to confirm a change: only bounded, as every new one was. */
export const presentedPassword = () =>
  safeText()
    .min(1)
    .refine((value) => codePoints(value) <= PASSWORD_MAX, {
      message: `must be at most ${PASSWORD_MAX} characters`,
    });
