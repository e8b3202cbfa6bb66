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
/** A code point is one or two UTF-16 units: the bounds in units that the OpenAPI document can state. */
const MAX_UNITS = PASSWORD_MAX * 2;
const TOO_SHORT = `must be at least ${PASSWORD_MIN} characters`;
const TOO_LONG = `must be at most ${PASSWORD_MAX} characters`;

/** The rule a new password breaks, or undefined: the message a 400 names for the field. */
export function newPasswordProblem(password: string): string | undefined {
  const length = codePoints(password);
  if (length < PASSWORD_MIN) return TOO_SHORT;
  if (length > PASSWORD_MAX) return TOO_LONG;
  if (commonPasswords().has(password.toLowerCase())) {
    return 'is on a list of common or breached passwords; choose another';
  }
  return undefined;
}

/**
 * A new password (registration, change, reset): refused with the rule it breaks. Its length in UTF-16 units is
 * bounded first (so the schema, and clients generated from it, know the bounds), then the rules in code points.
 */
export function newPassword() {
  return safeText()
    .min(PASSWORD_MIN, { message: TOO_SHORT })
    .max(MAX_UNITS, { message: TOO_LONG })
    .check((context) => {
      if (context.value.length < PASSWORD_MIN || context.value.length > MAX_UNITS) return;
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
    .max(MAX_UNITS, { message: TOO_LONG })
    .check((context) => {
      if (context.value.length <= MAX_UNITS && codePoints(context.value) > PASSWORD_MAX) {
        context.issues.push({ code: 'custom', message: TOO_LONG, input: context.value });
      }
    });
