import { commonPasswords } from '../adapters/common-passwords.ts';
import { safeText } from '../http/input.ts';

/**
 * NIST SP 800-63B memorized secrets: at least 8 characters, up to 128 accepted (the guideline asks for at
 * least 64), the same maximum wherever a password is sent, no composition rules, and none of the common or
 * breached passwords. Lengths count Unicode code points, as the guideline does.
 */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

const TOO_SHORT = `must be at least ${PASSWORD_MIN} characters`;
const TOO_LONG = `must be at most ${PASSWORD_MAX} characters`;
const COMMON = 'is on a list of common or breached passwords; choose another';

/** zod's string lengths count code points (an emoji is one character), as the guideline does. */
const bounded = () => safeText().max(PASSWORD_MAX, { message: TOO_LONG });

/** A new password (registration, change, reset): refused with the one rule it breaks, named in the message. */
export function newPassword() {
  return bounded()
    .min(PASSWORD_MIN, { message: TOO_SHORT })
    .check((context) => {
      const { length } = [...context.value];
      if (length < PASSWORD_MIN || length > PASSWORD_MAX) return;
      if (commonPasswords().has(context.value.toLowerCase())) {
        context.issues.push({ code: 'custom', message: COMMON, input: context.value });
      }
    })
    .describe(
      `${PASSWORD_MIN} to ${PASSWORD_MAX} characters, not a common or breached password; no other rules`,
    );
}

/** A password presented to log in or to confirm a change: only bounded, as every new one was. */
export const presentedPassword = () => bounded().min(1);
